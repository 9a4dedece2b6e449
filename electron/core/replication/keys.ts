import { lastText } from './commands.ts';
import { quote } from '../../../shared/shell.ts';
import { REPLICATION_KEY, sshArgv, type SshLeg } from './pipeline.ts';
import { runText, type NodeRemote } from '../remote/node.ts';

/**
 * Direct mode needs the source's root to ssh into each receiver with replication's own key
 * (pipeline.ts REPLICATION_KEY), knowing the receiver's host key. The check is the transfer's own
 * first step (the same ssh options, and it leaves the connection open for the transfer to reuse),
 * so a push whose nodes are set up pays nothing for it. Setting the keys up is the installer's
 * (installer/trust.ts applyPair): the key made on the source, the receive wrapper and the key's
 * restricted line on each receiver, the receiver's host key read through the app's own verified
 * connection, never scanned off the network, each change planned, applied and audited as an
 * install step.
 */

export interface AccessTarget extends SshLeg {
  node: string;
  /** The receive wrapper the node should run (pipeline.ts receiveWrapperId of its repository). */
  wrapperId: string;
}

export type AccessProblem = { node: string; kind: 'host-key' | 'key' | 'wrapper' | 'unreachable'; detail: string };

// BatchMode: a missing key must fail, not prompt. The output is kept for the reason. Without
// replication's key on the source, ssh would warn and log in with root's own keys (the guide's
// trust table gives it one), where no receive wrapper answers: that is "no key" too.
const CHECK = `[ -r ${quote(REPLICATION_KEY)} ] || { echo "icbd:access 255"; echo "Permission denied: replication's own key (${REPLICATION_KEY}) is not on this node yet"; exit 0; }
out=$("$@" 2>&1 </dev/null); rc=$?
echo "icbd:access $rc"
printf '%s\\n' "$out" | tail -n 3`;

/** What stops the source's root from reaching `t` over OpenSSH; undefined when nothing does. */
export async function checkAccess(remote: NodeRemote, source: string, t: AccessTarget): Promise<AccessProblem | undefined> {
  const r = await runText(remote, source, ['sh', '-c', CHECK, 'sh', ...sshArgv(t, `true ${t.wrapperId}`)], { sudo: true, timeoutMs: 60_000 });
  const rc = Number(r.stdout.match(/^icbd:access (\d+)$/m)?.[1]);
  if (rc === 0) return undefined;
  const detail = r.stdout.replace(/^icbd:access \d+\n?/m, '').trim() || lastText(r.stderr) || `exit code ${r.code}`;
  const kind = /host key verification failed|host key is known|identification has changed/i.test(detail) ? 'host-key' : /permission denied/i.test(detail) ? 'key' : /^icbd receive: refused/m.test(detail) ? 'wrapper' : 'unreachable';
  return { node: t.node, kind, detail };
}

const PROBLEM: Record<AccessProblem['kind'], (node: string) => string> = {
  'host-key': (node) => `does not know ${node}'s host key`,
  key: (node) => `has no key ${node} accepts`,
  wrapper: (node) => `reaches ${node}, whose receive wrapper is not the one this console writes`,
  unreachable: (node) => `cannot reach ${node}`,
};

export function describeProblem(source: string, p: AccessProblem): string {
  const fix = p.kind === 'unreachable' ? '' : ': set up node keys to fix it';
  return `${source}'s root ${PROBLEM[p.kind](p.node)} (${p.detail.split('\n').at(-1)})${fix}`;
}

/**
 * The installer's set-up of replication's key (installer/trust.ts applyPair): `source`'s
 * replication key accepted by each target for its receive wrapper alone, their host keys into the
 * source's root known_hosts under the names direct mode looks up. Per target, why it failed.
 */
export type TrustPair = (source: string, targets: readonly string[]) => Promise<ReadonlyMap<string, string>>;

export interface SetupKeysInput {
  remote: NodeRemote;
  source: string;
  targets: readonly AccessTarget[];
  trust: TrustPair;
}

export interface SetupKeysResult {
  node: string;
  ok: boolean;
  detail: string;
}

/**
 * Sets the keys up by the installer, then checks each target as the transfer would. The key is
 * accepted in root's authorized_keys: a target the transfer logs in to as another user is not changed.
 */
export async function setupKeys(i: SetupKeysInput): Promise<SetupKeysResult[]> {
  const asRoot = i.targets.filter((t) => t.user === 'root');
  const failed = asRoot.length ? await i.trust(i.source, asRoot.map((t) => t.node)) : new Map<string, string>();
  return Promise.all(
    i.targets.map(async (t): Promise<SetupKeysResult> => {
      if (t.user !== 'root') return { node: t.node, ok: false, detail: `${i.source} reaches ${t.node} as ${t.user}, but the node keys are root's (the guide's table): set ${t.node}'s SSH user to root in the inventory, or push in relay mode.` };
      const why = failed.get(t.node);
      if (why) return { node: t.node, ok: false, detail: why };
      const problem = await checkAccess(i.remote, i.source, t);
      return problem ? { node: t.node, ok: false, detail: describeProblem(i.source, problem) } : { node: t.node, ok: true, detail: `${i.source} reaches ${t.node} as ${t.user}` };
    }),
  );
}
