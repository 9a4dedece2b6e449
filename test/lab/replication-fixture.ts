/**
 * Prepares lab nodes for replication the way the installer (issue 5) will, without depending on
 * it: a stand-in for its disk, subvolume and key steps, run through the app's own SSH pool.
 *
 * - zstd, lz4 and socat installed through the lab's mirror;
 * - /dev/vdb formatted with btrfs; the guide's `Lib` top-level subvolume with `icbd`, `icbd/.snap`
 *   (the repository root the replication defaults expect) and `icbd/shared-vms` (the working
 *   images) inside; `Lib/icbd` mounted at /var/lib/icbd. The real installer mounts all of `Lib`
 *   on /var/lib after copying its contents over; mounting only `Lib/icbd` keeps the host's own
 *   /var/lib (dpkg, systemd state) in place while giving the same paths and the same raw
 *   subvolume tree.
 * - quotas on, so that snapshots have sizes (qgroups), as the tree shows them.
 * - imgs's replication key accepted by root on each cache for the receive wrapper only (the
 *   installer's own line and wrapper), and each cache's host key in imgs's known_hosts (read
 *   through the app's verified connection, not scanned off the network): what direct mode needs.
 *
 * And what the tests of transfers on such a lab share: waiting for a push's or an upload's end,
 * acting while it moves bytes (a cancel, a full disk, a cut link).
 */
import type { Core } from '../../electron/core/core.ts';
import { labCut, labHeal, type LabInfo } from '../../electron/core/lab/index.ts';
import { replicationKeyLine } from '../../electron/core/installer/steps/ssh.ts';
import { authorizedKeyLine } from '../../shared/etc-files.ts';
import { RECEIVE_WRAPPER, receiveWrapper, REPLICATION_KEY } from '../../electron/core/replication/pipeline.ts';
import type { SshPool } from '../../electron/core/ssh/pool.ts';
import { defaultRepoSettings } from '../../shared/snapshots.ts';
import { isTransferFinished, type TransferRecord } from '../../shared/transfers.ts';
import { labWithHosts } from './session.ts';

const FORMAT = `set -e
if mountpoint -q /var/lib/icbd; then exit 0; fi
mkfs.btrfs -q -f /dev/vdb >/dev/null 2>&1
top=$(mktemp -d)
mount /dev/vdb "$top"
btrfs -q subvolume create "$top/Lib"
btrfs -q subvolume create "$top/Lib/icbd"
btrfs -q subvolume create "$top/Lib/icbd/.snap"
btrfs -q subvolume create "$top/Lib/icbd/shared-vms"
btrfs quota enable "$top"
umount "$top"
rmdir "$top"
mkdir -p /var/lib/icbd
mount -o subvol=Lib/icbd /dev/vdb /var/lib/icbd`;

// The pipelines' compressors and socat, fetched through the lab's site mirror as an operator would.
const TOOLS = `set -e
command -v zstd lz4 socat >/dev/null 2>&1 && [ "$(command -v zstd lz4 socat | wc -l)" = 3 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends zstd lz4 socat >/dev/null`;

const KEY = `set -e
mkdir -p -m 700 /root/.ssh
[ -f "$1" ] || ssh-keygen -q -t ed25519 -N '' -f "$1"
cat "$1.pub"`;

// $1 the authorized_keys line, $2 the wrapper's path; the wrapper itself on stdin.
const TRUST = `set -e
mkdir -p -m 700 /root/.ssh
cat > "$2" && chmod 755 "$2"
grep -qxF "$1" /root/.ssh/authorized_keys 2>/dev/null || echo "$1" >> /root/.ssh/authorized_keys`;

/** The line each cache accepts imgs's replication key with, as the installer writes it. */
function receiveLine(pub: string, from: readonly string[]): string {
  return replicationKeyLine(pub, from).text;
}
/** Every address the source may connect from. */
const addressesOf = async (pool: SshPool, source: string) => (await pool.run(source, ['hostname', '-I'])).stdout.trim().split(/\s+/);
const replicationPub = async (pool: SshPool, source: string) => (await pool.run(source, ['sh', '-c', KEY, 'sh', REPLICATION_KEY])).stdout.trim();

const KNOWN = `set -e
mkdir -p -m 700 /root/.ssh
grep -qxF "$1" /root/.ssh/known_hosts 2>/dev/null || echo "$1" >> /root/.ssh/known_hosts`;

/** `keys: false` leaves the nodes strangers to each other, as a fresh installation is (replication.setupKeys's test). */
export async function prepareReplication(pool: SshPool, source: string, caches: readonly { name: string; address: string }[], o: { keys?: boolean } = {}): Promise<void> {
  await Promise.all([source, ...caches.map((c) => c.name)].map((n) => pool.run(n, ['sh', '-c', `${TOOLS}\n${FORMAT}`], { timeoutMs: 300_000 })));
  if (o.keys === false) return;
  const pub = await replicationPub(pool, source);
  const from = await addressesOf(pool, source);
  for (const c of caches) {
    await pool.run(c.name, ['sh', '-c', TRUST, 'sh', receiveLine(pub, from), RECEIVE_WRAPPER], { stdin: receiveWrapper(defaultRepoSettings('cache').root) });
    const hostKey = (await pool.run(c.name, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.trim().split(' ').slice(0, 2).join(' ');
    await pool.run(source, ['sh', '-c', KNOWN, 'sh', `${c.address} ${hostKey}`]);
  }
}

/** A lab with the pipelines' tools, its hosts in the core's inventory, imgs and every cache prepared as above; `links` shapes some (`cache01=100mbit`). */
export async function replicationLab(core: Core, dir: string, o: { caches: number; keys?: boolean; links?: string }): Promise<LabInfo> {
  const lab = await labWithHosts(core, { dir, caches: o.caches, ...(o.links ? { links: o.links } : {}) });
  await prepareReplication(await core.ssh(), 'imgs', lab.hosts.filter((h) => h.role === 'cache'), o);
  return lab;
}

const UNTRUST = `set -e
umask 077
f=/root/.ssh/authorized_keys
[ -f "$f" ] || exit 0
grep -vxF "$1" "$f" > "$f.icbd" || true
mv "$f.icbd" "$f"`;

// The connection a direct-mode check leaves open (ControlPersist) would still let root in: close it.
const FORGET = `ssh -O exit -o ControlPath="$HOME/.ssh/icbd-%C" "root@$1" >/dev/null 2>&1
ssh-keygen -R "$1" -f /root/.ssh/known_hosts >/dev/null 2>&1
true`;

const APPEND = `set -e
mkdir -p -m 700 /root/.ssh
grep -qxF "$1" /root/.ssh/authorized_keys 2>/dev/null || echo "$1" >> /root/.ssh/authorized_keys`;

/**
 * The guide's own trust table for one direction, as `install trust` writes it: the caches accept
 * the source's root key (from its addresses). The benchmark's raw pipes, typed as root on imgs, need it;
 * the app's direct pushes never use it (they log in with the replication key).
 */
export async function trustRootKey(pool: SshPool, source: string, caches: readonly { name: string }[]): Promise<void> {
  const pub = (await pool.run(source, ['sh', '-c', KEY, 'sh', '/root/.ssh/id_ed25519'])).stdout.trim();
  const line = authorizedKeyLine(pub, `from="${(await addressesOf(pool, source)).join(',')}"`).text;
  for (const c of caches) await pool.run(c.name, ['sh', '-c', APPEND, 'sh', line]);
}

/** Undoes the key step for one cache, as if it had been rebuilt: the source's root can no longer log in to it. */
export async function forgetKeys(pool: SshPool, source: string, cache: { name: string; address: string }): Promise<void> {
  const pub = await replicationPub(pool, source);
  await pool.run(cache.name, ['sh', '-c', UNTRUST, 'sh', receiveLine(pub, await addressesOf(pool, source))]);
  await pool.run(source, ['sh', '-c', FORGET, 'sh', cache.address]);
}

/**
 * Every transfer.update until each transfer `start` starts (a push's, an upload's) has ended; the
 * updates are kept from before `start` answers, as the first may come before. `during` sees each
 * update of them.
 */
export async function untilEnded(
  core: Core,
  start: () => Promise<string[]>,
  during?: (r: TransferRecord) => void | Promise<void>,
): Promise<{ records: TransferRecord[]; updates: TransferRecord[] }> {
  const updates: TransferRecord[] = [];
  const ended = new Map<string, TransferRecord>();
  let ids: Set<string> | undefined;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const off = core.on('transfer.update', (r) => {
    updates.push(r);
    if (ids && !ids.has(r.id)) return;
    void during?.(r);
    if (isTransferFinished(r.state)) ended.set(r.id, r);
    if (ids && [...ids].every((id) => ended.has(id))) resolve();
  });
  try {
    ids = new Set(await start());
    for (const u of updates) if (isTransferFinished(u.state) && ids.has(u.id)) ended.set(u.id, u);
    if (ids.size && ![...ids].every((id) => ended.has(id))) await all;
    return { records: [...ids].map((id) => ended.get(id)!), updates: updates.filter((u) => ids!.has(u.id)) };
  } finally {
    off();
  }
}

/** A `during` for untilEnded that runs `act` once, at the first update of a transfer running with bytes moved; `acted` says whether it has. */
export function onceMoving(act: (u: TransferRecord) => Promise<void>): { during: (u: TransferRecord) => Promise<void>; readonly acted: boolean } {
  let acted = false;
  return {
    during: async (u) => {
      if (acted || u.state !== 'running' || u.bytes === 0) return;
      acted = true;
      await act(u);
    },
    get acted() {
      return acted;
    },
  };
}

/**
 * Cuts `node`'s link once a transfer moves bytes and heals it a minute later: long enough for the
 * keepalive at either end (OpenSSH's on a node, the console's own, both 15 s × 3) to give up on
 * the dead link. `healed()` heals it at once and says whether it was cut.
 */
export function cutWhileMoving(node: string, dir: string): { during: (u: TransferRecord) => Promise<void>; healed: () => Promise<boolean> } {
  let heal: NodeJS.Timeout | undefined;
  const cut = onceMoving(async () => {
    await labCut(node, { dir });
    heal = setTimeout(() => void labHeal(node, { dir }), 60_000);
  });
  return {
    during: cut.during,
    healed: async () => {
      clearTimeout(heal);
      await labHeal(node, { dir });
      return cut.acted;
    },
  };
}
