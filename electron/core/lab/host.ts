import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SUPERVISOR } from './assets.ts';
import { cgroupDirs, createHostCgroup, killTree, pidsIn, removeTree } from './cgroup.ts';
import { attachDisk } from './disk.ts';
import { LabError } from './errors.ts';
import { labEnv, run, sleep, tryRun } from './exec.ts';
import { hostPaths, sshPaths } from './paths.ts';
import { sshRun } from './ssh-files.ts';
import { aptProxyConf, APT_PROXY_FILE, type HostSpec, labNames, mirrorProxy, topology } from './topology.ts';

export interface HostCtx {
  dir: string;
  slot: number;
  spec: HostSpec;
  base: string;
  kind: 'nspawn' | 'qemu';
  /** Position in the topology (VM MAC addresses are made of it). */
  index: number;
}

/** Anything the lab supervises in a cgroup of its own: a host, or the site mirror's processes. */
export type Unit = Pick<HostCtx, 'dir' | 'slot'> & { spec: Pick<HostSpec, 'name'> };

function mountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export const isMounted = (p: string) => mountPoints().includes(p);

/** Mount points at or below `dir`, deepest first (for teardown). */
export const mountsUnder = (dir: string) =>
  mountPoints()
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);

/**
 * The host's private root: an overlay of the shared base (read-only) and a per-host upper dir.
 * Everything the installer changes (/etc, /var/lib ...) lands in the upper dir, so a reset is
 * "delete the upper dir" and the base is never touched.
 */
export async function mountRoot(ctx: HostCtx): Promise<void> {
  const p = hostPaths(ctx.dir, ctx.spec.name);
  const fresh = !fs.existsSync(p.upper);
  for (const d of [p.upper, p.work, p.merged]) fs.mkdirSync(d, { recursive: true });
  if (!isMounted(p.merged)) {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${ctx.base},upperdir=${p.upper},workdir=${p.work}`, p.merged]);
  }
  if (fresh) writeIdentity(ctx);
}

/** What makes a clone of the base a distinct machine (written through the overlay, once). */
function writeIdentity(ctx: HostCtx): void {
  const p = hostPaths(ctx.dir, ctx.spec.name);
  const r = (rel: string) => path.join(p.merged, rel);
  const name = ctx.spec.name;
  fs.writeFileSync(r('etc/hostname'), `${name}\n`);
  fs.writeFileSync(r('etc/machine-id'), `${randomBytes(16).toString('hex')}\n`);
  fs.writeFileSync(r('etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n::1\t\tlocalhost ip6-localhost ip6-loopback\n`);
  fs.copyFileSync(p.hostKey, r('etc/ssh/ssh_host_ed25519_key'));
  fs.chmodSync(r('etc/ssh/ssh_host_ed25519_key'), 0o600);
  fs.copyFileSync(`${p.hostKey}.pub`, r('etc/ssh/ssh_host_ed25519_key.pub'));
  fs.mkdirSync(r('root/.ssh'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(`${sshPaths(ctx.dir).identity}.pub`, r('root/.ssh/authorized_keys'));
  fs.chmodSync(r('root/.ssh/authorized_keys'), 0o600);
  // the mirror's addresses do not depend on the number of caches
  fs.writeFileSync(r(APT_PROXY_FILE), aptProxyConf(mirrorProxy(topology(ctx.slot, 1), ctx.spec)));
  // A lab host is thrown away, never power-cut: dpkg's fsync per file through the overlay and the
  // loop disk costs minutes per install of the guide's packages and protects nothing here.
  fs.writeFileSync(r('etc/dpkg/dpkg.cfg.d/01icbd-lab-unsafe-io'), 'force-unsafe-io\n');
}

/** Unmounts the root and forgets every change made to it. */
export async function wipeRoot(ctx: HostCtx): Promise<void> {
  const p = hostPaths(ctx.dir, ctx.spec.name);
  await unmountAll(p.merged);
  fs.rmSync(p.upper, { recursive: true, force: true });
  fs.rmSync(p.work, { recursive: true, force: true });
}

export async function unmountAll(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    if (!(await tryRun('umount', [m]))) await tryRun('umount', ['-l', m]);
  }
}

const cgroupsOf = (ctx: Unit) => cgroupDirs(labNames(ctx.slot).cgroup, ctx.spec.name);

export const isRunning = (ctx: Unit) => pidsIn(cgroupsOf(ctx).unified).length > 0;

/** Boots the host: a supervisor (in the host's own cgroup) runs systemd-nspawn, again after each reboot. */
export async function startHost(ctx: HostCtx): Promise<void> {
  if (isRunning(ctx)) return;
  const n = labNames(ctx.slot);
  const p = hostPaths(ctx.dir, ctx.spec.name);
  const loop = await attachDisk(p.disk);
  const args = [
    '--boot',
    // no systemd on the machine to register with or to create a scope for the container
    '--register=no',
    '--keep-unit',
    `--directory=${p.merged}`,
    `--machine=${n.hostNs(ctx.spec.name)}`,
    `--hostname=${ctx.spec.name}`,
    `--network-namespace-path=/run/netns/${n.hostNs(ctx.spec.name)}`,
    // the guide's extra drive; libblkid resolves UUID= through the loop's own name
    `--bind=${loop}:/dev/vdb`,
    `--bind=${loop}`,
    '--bind=/dev/btrfs-control',
    // With the network's API filesystems writable, /sys is a tmpfs holding only the network's part;
    // btrfs-progs read a filesystem's devices in /sys/fs/btrfs (btrfs filesystem usage says
    // "unexpected number of devices: 0 != 1" without it), as on a VM.
    '--bind-ro=/sys/fs/btrfs',
    // its own network namespace is the host's to configure, as a VM's NICs are (firewalld, NAT, routes)
    '--capability=CAP_NET_ADMIN',
    '--console=read-only',
    '--link-journal=no',
    '--resolv-conf=off',
    '--timezone=off',
  ];
  // its own network's sysctls (/proc/sys/net) writable, as a VM's are: ip_forward is the host's to set
  await launch(ctx, ['env', 'SYSTEMD_NSPAWN_API_VFS_WRITABLE=network', 'systemd-nspawn', ...args]);
}

/**
 * Starts the supervisor of a host's machine, detached (it outlives the lab command), and waits
 * until it has moved into the host's cgroup; until then the host would look stopped.
 */
export async function launch(ctx: Unit, command: string[]): Promise<void> {
  const p = hostPaths(ctx.dir, ctx.spec.name);
  const cg = createHostCgroup(labNames(ctx.slot).cgroup, ctx.spec.name);
  // hosts start in parallel: a script rewritten in place could be read half-written (sh then
  // runs nothing and exits 0), so it is replaced atomically
  const script = path.join(ctx.dir, 'supervise.sh');
  const tmp = `${script}.${process.pid}.${ctx.spec.name}`;
  fs.writeFileSync(tmp, SUPERVISOR, { mode: 0o755 });
  fs.renameSync(tmp, script);
  fs.mkdirSync(p.root, { recursive: true });
  const log = fs.openSync(p.console, 'a');
  let ended = '';
  try {
    const child = spawn('sh', [script, cg.unified, cg.named, ...command], { detached: true, stdio: ['ignore', log, log], env: labEnv() });
    child.on('error', (e) => (ended = `could not run the supervisor: ${e.message}`));
    child.on('exit', (code, sig) => (ended = `the supervisor exited (${sig ?? code})`));
    if (child.pid === undefined) throw new LabError(`cannot start ${ctx.spec.name}: spawn failed`, 'check free memory and process limits');
    fs.writeFileSync(path.join(p.root, 'supervisor.pid'), String(child.pid));
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  const deadline = Date.now() + 30_000;
  while (!isRunning(ctx)) {
    if (ended || Date.now() > deadline) {
      throw new LabError(`${ctx.spec.name} did not start: ${ended || 'its supervisor never joined the cgroup'}\n${consoleTail(ctx)}`, `read ${p.console}`);
    }
    await sleep(10);
  }
}

/**
 * Stops the host. Graceful: the supervisor tells nspawn to power the host off (as `shutdown`
 * would); otherwise, or if that takes too long, everything in the host's cgroup is killed.
 */
export async function stopHost(ctx: HostCtx, graceful: boolean): Promise<void> {
  const cg = cgroupsOf(ctx);
  const p = hostPaths(ctx.dir, ctx.spec.name);
  if (graceful) {
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(path.join(p.root, 'supervisor.pid'), 'utf8'));
    } catch {
      // no supervisor recorded: fall through to the kill
    }
    // only signal a pid that is still the host's (pids are reused)
    if (pid && pidsIn(cg.unified).includes(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (isRunning(ctx) && Date.now() < deadline) await sleep(100);
    }
  }
  if (!(await killTree(cg))) {
    throw new LabError(`host ${ctx.spec.name} did not stop: processes remain in ${cg.unified}`, 'look for stuck I/O (D state) with `ps`; then run `lab down`');
  }
  // Processes still exiting keep the tree busy for a moment. It must go: the next start would
  // find the old tree, with controllers nspawn delegated, where the kernel refuses to place a process.
  const deadline = Date.now() + 10_000;
  for (;;) {
    removeTree(labNames(ctx.slot).cgroup, ctx.spec.name);
    if (!fs.existsSync(cg.unified) && !fs.existsSync(cg.named)) break;
    if (Date.now() > deadline) throw new LabError(`cannot remove the cgroup of ${ctx.spec.name} (${cg.unified})`, 'run `lab down`, then `lab up`');
    await sleep(50);
  }
  cleanNspawnLeftovers(ctx);
  fs.rmSync(path.join(p.root, 'supervisor.pid'), { force: true });
}

/** nspawn keeps a lock per image and a propagation dir per machine under /run; a killed nspawn leaves them. */
function cleanNspawnLeftovers(ctx: HostCtx): void {
  const p = hostPaths(ctx.dir, ctx.spec.name);
  fs.rmSync(`/run/systemd/nspawn/propagate/${labNames(ctx.slot).hostNs(ctx.spec.name)}`, { recursive: true, force: true });
  try {
    const st = fs.statSync(p.merged);
    fs.rmSync(`/run/systemd/nspawn/locks/inode-${st.dev}:${st.ino}`, { force: true });
  } catch {
    // root not mounted: no lock of ours can exist
  }
}

/** Removes /run/systemd/nspawn if the lab created it and nothing else uses it. */
export function removeEmptyNspawnRun(): void {
  for (const d of ['/run/systemd/nspawn/propagate', '/run/systemd/nspawn/locks', '/run/systemd/nspawn']) {
    try {
      fs.rmdirSync(d);
    } catch {
      // not empty, or not there
    }
  }
}

export function consoleTail(ctx: Unit, lines = 15): string {
  try {
    // eslint-disable-next-line no-control-regex
    const text = fs.readFileSync(hostPaths(ctx.dir, ctx.spec.name).console, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console log)';
  }
}

/**
 * Waits until the host answers over SSH (through imgs where needed) and systemd has finished
 * booting; returns systemd's verdict ("running", "degraded" ...).
 */
export async function waitReady(ctx: HostCtx, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isRunning(ctx)) {
      throw new LabError(`host ${ctx.spec.name} exited while booting:\n${consoleTail(ctx)}`, `read ${hostPaths(ctx.dir, ctx.spec.name).console}`);
    }
    const r = await sshRun(ctx.dir, ctx.spec.name, 'systemctl is-system-running --wait', { connectTimeout: 2, timeoutMs: Math.max(1000, deadline - Date.now()) });
    const verdict = r.stdout.trim();
    if (['running', 'degraded', 'maintenance'].includes(verdict)) return verdict;
    last = r.stderr.trim() || verdict;
    await sleep(150);
  }
  throw new LabError(
    `host ${ctx.spec.name} did not come up within ${Math.round(timeoutMs / 1000)} s (last ssh answer: ${last}); console:\n${consoleTail(ctx)}`,
    `read ${hostPaths(ctx.dir, ctx.spec.name).console}; \`lab reset ${ctx.spec.name}\` returns it to pristine`,
  );
}
