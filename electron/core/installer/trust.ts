import { AppError } from '../../../shared/errors.ts';
import { findHost, type Host } from '../../../shared/inventory.ts';
import type { InstallSettings } from '../../../shared/install.ts';
import { applyChanges, type AuditEntry } from './apply.ts';
import { gather } from './gather.ts';
import { peerOf, readKeys, type NodeKeys, type ReplicationAddresses } from './peers.ts';
import { contextFor, planStep } from './plan.ts';
import type { Remote } from '../remote/host.ts';
import type { InstallInput, Notice, Peer, PlanContext, Step, StepPlan } from './step.ts';
import type { HostState } from './state.ts';
import { hosts as hostsStep } from './steps/etc.ts';
import { REPLICATION_KEY } from '../replication/pipeline.ts';
import { parsePublicKey } from '../../../shared/etc-files.ts';
import { KEY, replicationKey, replicationReceive, SSH_DIR, sshTrust } from './steps/ssh.ts';

/**
 * Annex 2's SSH table for the whole platform: a node installed later made a key the nodes
 * installed before it do not accept yet. Trust is the installer's own two steps (/etc/hosts for
 * the names, ssh-trust for authorized_keys and known_hosts) planned again on every installed
 * node with every other node as its peer, so it is planned with diffs, applied with audit and
 * verified by planning nothing, like any step. Replication's node keys are one direction of the
 * same table (applyPair), so the two write the same lines and never undo each other.
 */

const TRUST_STEPS: readonly Step[] = [hostsStep, sshTrust];
const KNOWN_HOSTS = `${SSH_DIR}/known_hosts`;

export interface TrustNode {
  host: string;
  steps: StepPlan[];
  /** Why the node is left out (not installed from here, unreachable); its steps are empty then. */
  skipped?: string;
}

export interface TrustPlan {
  nodes: TrustNode[];
  notices: Notice[];
  changes: number;
}

export interface TrustDeps {
  hosts: readonly Host[];
  /** The settings each host was installed with from this console. */
  settings(host: string): InstallSettings | undefined;
  remote(host: string): Remote;
  input(host: string, settings: InstallSettings): InstallInput;
  replicationAddress: ReplicationAddresses;
}

export interface TrustApplyOptions {
  audit(e: AuditEntry): void | Promise<void>;
  log?(line: string): void;
  signal?: AbortSignal;
  now?: () => number;
}

/** What is done to one node: steps planned with its peers, kept to the one file `only` names when given. */
interface Work {
  host: string;
  input: InstallInput;
  steps: readonly Step[];
  only?: string;
}

interface Planned {
  node: TrustNode;
  work?: Work;
  state?: HostState;
}

function planSteps(w: Work, ctx: PlanContext): StepPlan[] {
  return w.steps.map((s) => {
    const p = planStep(s, ctx);
    return w.only === undefined ? p : { ...p, changes: p.changes.filter((c) => c.kind === 'file' && c.path === w.only), notices: [] };
  });
}

/** `later` says what becomes of an unreachable node's part. */
async function planWork(d: TrustDeps, w: Work, later = ''): Promise<Planned> {
  const skip = (why: string): Planned => ({ node: { host: w.host, steps: [], skipped: why } });
  const state = await gather(d.remote(w.host), w.input).catch((err: unknown) => err as Error);
  if (state instanceof Error) return skip(`${w.host} is not reachable (${state.message})${later}.`);
  const ctx = contextFor(state, w.input);
  if (!ctx) return skip(`${w.host}: the distribution is not recognised.`);
  return { node: { host: w.host, steps: planSteps(w, ctx) }, work: w, state };
}

/**
 * Applies a node's planned steps, reads it back and plans again: a step still planning changes
 * is undone and the node's failure thrown.
 */
async function applyPlanned(d: TrustDeps, p: Planned, o: TrustApplyOptions): Promise<void> {
  if (!p.work || !p.state) throw new AppError('REMOTE_FAILED', p.node.skipped ?? `${p.node.host} was not planned.`);
  const { work, state } = p;
  const remote = d.remote(work.host);
  for (const [i, step] of work.steps.entries()) {
    const plan = p.node.steps[i]!;
    if (plan.changes.length === 0) continue;
    o.log?.(`== ${work.host}: ${plan.title}`);
    const tx = await applyChanges(
      { remote, host: work.host, step: step.id, audit: o.audit, now: o.now ?? Date.now, findmntVerify: state.findmntVerify, ...(o.signal && { signal: o.signal }) },
      plan.changes,
    );
    const ctx = contextFor(await gather(remote, work.input), work.input);
    const left = ctx ? planSteps({ ...work, steps: [step] }, ctx)[0]! : plan;
    if (left.changes.length > 0) {
      await tx.undo();
      throw new AppError('REMOTE_FAILED', `${plan.title} did not take; undone.`);
    }
  }
}

async function planNode(d: TrustDeps, h: Host, keys: ReadonlyMap<string, NodeKeys>): Promise<Planned> {
  const settings = d.settings(h.name);
  if (!settings) return { node: { host: h.name, steps: [], skipped: `${h.name} was not installed from this console: install it, then its trust is set up.` } };
  const input: InstallInput = {
    ...d.input(h.name, settings),
    peers: d.hosts.filter((p) => p.name !== h.name).map((p) => peerOf(p, settings.platform, keys.get(p.name) ?? {}, d.replicationAddress(p.name))),
  };
  const planned = await planWork(d, { host: h.name, input, steps: TRUST_STEPS }, ': its trust is completed when it is');
  if (planned.state && planned.state.files[`${KEY}.pub`] === undefined) return { node: { host: h.name, steps: [], skipped: `${h.name} has no root key yet: its trust is set up when it is installed.` } };
  return planned;
}

async function planAll(d: TrustDeps): Promise<Planned[]> {
  const keys = new Map(await Promise.all(d.hosts.map(async (h) => [h.name, await readKeys(d.remote(h.name))] as const)));
  return Promise.all(d.hosts.map((h) => planNode(d, h, keys)));
}

function summary(planned: readonly Planned[]): TrustPlan {
  const nodes = planned.map((p) => p.node);
  return {
    nodes,
    notices: nodes.flatMap((n) => (n.skipped ? [{ level: 'warning' as const, message: n.skipped }] : [])),
    changes: nodes.reduce((sum, n) => sum + n.steps.reduce((s, st) => s + st.changes.length, 0), 0),
  };
}

/** The nodes trust plans on (and so may change): those installed from this console. */
export function trustNodes(d: Pick<TrustDeps, 'hosts' | 'settings'>): string[] {
  return d.hosts.filter((h) => d.settings(h.name)).map((h) => h.name);
}

/** Dry run: every installed node's trust steps against its state now. */
export async function planTrust(d: TrustDeps): Promise<TrustPlan> {
  return summary(await planAll(d));
}

/**
 * Applies each node's trust steps; a node whose steps do not take is reported failed and the
 * other nodes go on (one node down must not keep the rest of the platform from trusting each
 * other). Returns the plan made after.
 */
export async function applyTrust(d: TrustDeps, o: TrustApplyOptions): Promise<TrustPlan> {
  const failures: string[] = [];
  for (const p of await planAll(d)) {
    if (!p.work) continue;
    try {
      await applyPlanned(d, p, o);
    } catch (err) {
      if (o.signal?.aborted) throw err;
      failures.push(`${p.node.host}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const after = await planTrust(d);
  if (failures.length) throw new AppError('REMOTE_FAILED', `Trust could not be set up on every node:\n${failures.join('\n')}`, { plan: after });
  return after;
}

/**
 * Replication's direct mode from `source` to each target, beside the table (not one direction of
 * it: that gave imgs's root key root on every cache): the source gets a replication key of its own
 * and the targets' host keys in root's known_hosts; each target the receive wrapper and that key
 * accepted from the source's addresses, restricted to the wrapper. Planned and applied as steps,
 * with diffs and audit. `settings` must answer for every node named (a node never installed here:
 * what its install would be proposed). A source that cannot be set up throws; a target's failure
 * is returned.
 */
export async function applyPair(d: TrustDeps, source: string, targets: readonly { node: string; root: string }[], o: TrustApplyOptions): Promise<Map<string, string>> {
  const node = (name: string) => {
    const host = findHost(d.hosts, name);
    const settings = d.settings(name);
    if (!settings) throw new AppError('NOT_FOUND', `There is no host named ${name} in the inventory.`);
    return { host, settings };
  };
  const work = (name: string, steps: readonly Step[], o2: { only?: string; peers?: Peer[]; replicationFrom?: InstallInput['replicationFrom'] } = {}): Work => ({
    host: name,
    input: { ...d.input(name, node(name).settings), peers: o2.peers ?? [], ...(o2.replicationFrom && { replicationFrom: o2.replicationFrom }) },
    steps,
    ...(o2.only && { only: o2.only }),
  });
  const from = node(source);
  await applyPlanned(d, await planWork(d, work(source, [replicationKey])), o);
  const pub = await d.remote(source).run(['cat', '--', `${REPLICATION_KEY}.pub`]);
  const publicKey = parsePublicKey(pub.stdout)?.line;
  if (pub.code !== 0 || !publicKey) throw new AppError('REMOTE_FAILED', `${source}'s replication key cannot be read: ${pub.stderr.trim() || `${REPLICATION_KEY}.pub is not a public key`}.`);
  const theirs = await Promise.all(targets.map((t) => readKeys(d.remote(t.node))));
  const failed = new Map<string, string>();
  const known: Peer[] = [];
  for (const [i, { node: name, root }] of targets.entries()) {
    const keys = theirs[i]!;
    try {
      if (!keys.hostKey) throw new AppError('REMOTE_FAILED', `${name}'s ed25519 host key cannot be read${keys.problem ? ` (${keys.problem})` : ''}.`);
      const to = node(name);
      const { sources } = peerOf(from.host, to.settings.platform, {}, d.replicationAddress(source));
      await applyPlanned(d, await planWork(d, work(name, [replicationReceive], { replicationFrom: { publicKey, from: sources, root } })), o);
      known.push(peerOf(to.host, from.settings.platform, { hostKey: keys.hostKey }, d.replicationAddress(name)));
    } catch (err) {
      if (o.signal?.aborted) throw err;
      failed.set(name, err instanceof Error ? err.message : String(err));
    }
  }
  if (known.length === 0) return failed;
  try {
    await applyPlanned(d, await planWork(d, work(source, [sshTrust], { only: KNOWN_HOSTS, peers: known })), o);
  } catch (err) {
    for (const p of known) failed.set(p.name!, `${source}'s known_hosts: ${err instanceof Error ? err.message : String(err)}`);
  }
  return failed;
}
