import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { command } from '../../../shared/shell.ts';
import { lastText } from './commands.ts';
import { sshArgv, type SshLeg } from './pipeline.ts';
import { runText, type HostChange, type ReplicationRemote } from './remote.ts';

/**
 * Direct mode needs the source's root to ssh into each receiver with a key, knowing the
 * receiver's host key. The check is the transfer's own first step (the same ssh options, and it
 * leaves the connection open for the transfer to reuse, pipeline.ts), so a push whose nodes trust
 * each other pays nothing for it. Setting the keys up changes two things, both audited: the
 * source's public key is appended to each receiver's authorized_keys, and each receiver's host
 * keys — read from the receiver through the app's own verified connection, never scanned off the
 * network — replace whatever imgs's known_hosts said about that address.
 */

export interface AccessTarget extends SshLeg {
  node: string;
}

export type AccessProblem = { node: string; kind: 'host-key' | 'key' | 'unreachable'; detail: string };

// BatchMode: a missing key must fail, not prompt. The output is kept for the reason.
const CHECK = `out=$("$@" 2>&1 </dev/null); rc=$?
echo "icbd:access $rc"
printf '%s\\n' "$out" | tail -n 3`;

/** What stops the source's root from reaching `t` over OpenSSH; undefined when nothing does. */
export async function checkAccess(remote: ReplicationRemote, source: string, t: AccessTarget): Promise<AccessProblem | undefined> {
  const r = await runText(remote, source, ['sh', '-c', CHECK, 'sh', ...sshArgv(t, 'true')], { sudo: true, timeoutMs: 60_000 });
  const rc = Number(r.stdout.match(/^icbd:access (\d+)$/m)?.[1]);
  if (rc === 0) return undefined;
  const detail = r.stdout.replace(/^icbd:access \d+\n?/m, '').trim() || lastText(r.stderr) || `exit code ${r.code}`;
  const kind = /host key verification failed|host key is known|identification has changed/i.test(detail) ? 'host-key' : /permission denied/i.test(detail) ? 'key' : 'unreachable';
  return { node: t.node, kind, detail };
}

export function describeProblem(source: string, p: AccessProblem): string {
  const what = p.kind === 'host-key' ? `does not know ${p.node}'s host key` : p.kind === 'key' ? `has no key ${p.node} accepts` : `cannot reach ${p.node}`;
  const fix = p.kind === 'unreachable' ? '' : ': set up node keys (replication.setupKeys) to fix it';
  return `${source}'s root ${what} (${p.detail.split('\n').at(-1)})${fix}`;
}

// The first key root already has, else a new ed25519 one (OpenSSH tries these by default).
const SOURCE_KEY = `set -e
d=$(getent passwd root | cut -d: -f6); d=\${d:-/root}
for k in id_ed25519 id_ecdsa id_rsa; do
  if [ -f "$d/.ssh/$k" ] && [ -f "$d/.ssh/$k.pub" ]; then cat "$d/.ssh/$k.pub"; exit 0; fi
done
mkdir -p -m 700 "$d/.ssh"
ssh-keygen -q -t ed25519 -N '' -C "root@$(hostname)" -f "$d/.ssh/id_ed25519"
cat "$d/.ssh/id_ed25519.pub"`;

// Runs as the node's login user: the key authorizes exactly the account the transfer logs in as.
const AUTHORIZE = `set -e
umask 077
mkdir -p ~/.ssh
grep -qxF "$1" ~/.ssh/authorized_keys 2>/dev/null && { echo icbd:present; exit 0; }
printf '%s\\n' "$1" >> ~/.ssh/authorized_keys
echo icbd:added`;

const HOST_KEYS = 'cat /etc/ssh/ssh_host_*_key.pub';

// Lines for one host field: stale entries (a rebuilt node) are removed first, so OpenSSH does not
// refuse the new key as a changed one.
const KNOWN = `set -e
d=$(getent passwd root | cut -d: -f6); d=\${d:-/root}
f="$d/.ssh/known_hosts"
mkdir -p -m 700 "$d/.ssh"
touch "$f"
ssh-keygen -R "$1" -f "$f" >/dev/null 2>&1 || true
rm -f "$f.old"
shift
printf '%s\\n' "$@" >> "$f"`;

const PUBLIC_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+=*( [^\n]*)?$/;

/** known_hosts' name for an address and port. */
export function knownHostField(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export interface SetupKeysInput {
  remote: ReplicationRemote;
  source: Host;
  targets: readonly (AccessTarget & { host: Host })[];
  onChange?(change: HostChange): void | Promise<void>;
}

export interface SetupKeysResult {
  node: string;
  ok: boolean;
  detail: string;
}

/** Sets up each target, then checks again as the transfer would. */
export async function setupKeys(i: SetupKeysInput): Promise<SetupKeysResult[]> {
  const change = async (host: string, action: string, argv: string[], what: string, opts: { sudo: boolean }) => {
    const t0 = Date.now();
    const r = await runText(i.remote, host, argv, { ...opts, timeoutMs: 60_000 }).catch((err: unknown) => err as Error);
    const failed = r instanceof Error ? r.message : r.code !== 0 ? lastText(r.stderr) || `exit code ${r.code}` : undefined;
    await i.onChange?.({ host, action, command: command(argv), result: failed ? 'failed' : 'ok', detail: failed ?? what, ms: Date.now() - t0 });
    if (failed !== undefined || r instanceof Error) throw new AppError('REMOTE_FAILED', `${what} on ${host} failed: ${failed}`);
    return r.stdout;
  };
  const pub = (await change(i.source.name, 'replication.keys.source', ['sh', '-c', SOURCE_KEY], "root's SSH key (made if missing)", { sudo: true })).trim().split('\n').at(-1)!;
  if (!PUBLIC_KEY.test(pub)) throw new AppError('REMOTE_FAILED', `${i.source.name} printed no usable public key: ${pub.slice(0, 120)}`);
  const results: SetupKeysResult[] = [];
  for (const t of i.targets) {
    try {
      await change(t.node, 'replication.keys.authorize', ['sh', '-c', AUTHORIZE, 'sh', pub], `${i.source.name}'s root key in ${t.user}'s authorized_keys`, { sudo: false });
      const read = await runText(i.remote, t.node, ['sh', '-c', HOST_KEYS], { timeoutMs: 30_000 });
      const keys = read.stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))
        .filter((l) => PUBLIC_KEY.test(l));
      if (keys.length === 0) throw new AppError('REMOTE_FAILED', `${t.node} has no readable host key in /etc/ssh: ${lastText(read.stderr)}`);
      const field = knownHostField(t.address, t.sshPort);
      await change(i.source.name, 'replication.keys.known', ['sh', '-c', KNOWN, 'sh', field, ...keys.map((k) => `${field} ${k}`)], `${t.node}'s host keys in root's known_hosts as ${field}`, { sudo: true });
      const problem = await checkAccess(i.remote, i.source.name, t);
      results.push(problem ? { node: t.node, ok: false, detail: describeProblem(i.source.name, problem) } : { node: t.node, ok: true, detail: `${i.source.name} reaches ${t.node} as ${t.user}` });
    } catch (err) {
      results.push({ node: t.node, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }
  }
  return results;
}
