import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { InstallSettings } from '../../../shared/install.ts';
import { applyChanges, type AuditEntry } from './apply.ts';
import { gather } from './gather.ts';
import { peerOf, readKeys, type NodeKeys } from './peers.ts';
import { contextFor, planStep } from './plan.ts';
import type { Remote } from './remote.ts';
import type { InstallInput, Notice, Step, StepPlan } from './step.ts';
import type { HostState } from './state.ts';
import { hosts as hostsStep } from './steps/etc.ts';
import { KEY, sshTrust } from './steps/ssh.ts';

/**
 * Annex 2's SSH table for the whole platform: a node installed later made a key the nodes
 * installed before it do not accept yet. Trust is the installer's own two steps (/etc/hosts for
 * the names, ssh-trust for authorized_keys and known_hosts) planned again on every installed
 * node with every other node as its peer, so it is planned with diffs, applied with audit and
 * verified by planning nothing, like any step.
 */

const TRUST_STEPS: readonly Step[] = [hostsStep, sshTrust];

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
}

interface Planned {
  node: TrustNode;
  input?: InstallInput;
  state?: HostState;
}

async function planNode(d: TrustDeps, h: Host, keys: ReadonlyMap<string, NodeKeys>): Promise<Planned> {
  const settings = d.settings(h.name);
  if (!settings) return { node: { host: h.name, steps: [], skipped: `${h.name} was not installed from this console: install it, then its trust is set up.` } };
  const input: InstallInput = {
    ...d.input(h.name, settings),
    peers: d.hosts.filter((p) => p.name !== h.name).map((p) => peerOf(p, settings.platform, keys.get(p.name) ?? {})),
  };
  const state = await gather(d.remote(h.name), input).catch((err: unknown) => err as Error);
  if (state instanceof Error) return { node: { host: h.name, steps: [], skipped: `${h.name} is not reachable (${state.message}): its trust is completed when it is.` } };
  if (state.files[`${KEY}.pub`] === undefined) return { node: { host: h.name, steps: [], skipped: `${h.name} has no root key yet: its trust is set up when it is installed.` } };
  const ctx = contextFor(state, input);
  if (!ctx) return { node: { host: h.name, steps: [], skipped: `${h.name}: the distribution is not recognised.` } };
  return { node: { host: h.name, steps: TRUST_STEPS.map((s) => planStep(s, ctx)) }, input, state };
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

/** Dry run: every installed node's trust steps against its state now. */
export async function planTrust(d: TrustDeps): Promise<TrustPlan> {
  return summary(await planAll(d));
}

/**
 * Applies each node's trust steps, reads it back and plans again: a step still planning changes
 * is undone and the node reported failed; the other nodes go on (one node down must not keep
 * the rest of the platform from trusting each other). Returns the plan made after.
 */
export async function applyTrust(
  d: TrustDeps,
  o: { audit(e: AuditEntry): void | Promise<void>; log(line: string): void; signal?: AbortSignal; now?: () => number },
): Promise<TrustPlan> {
  const failures: string[] = [];
  for (const p of await planAll(d)) {
    if (!p.input || !p.state) continue;
    const remote = d.remote(p.node.host);
    for (const [i, step] of TRUST_STEPS.entries()) {
      const plan = p.node.steps[i]!;
      if (plan.changes.length === 0) continue;
      o.log(`== ${p.node.host}: ${plan.title}`);
      try {
        const tx = await applyChanges(
          { remote, host: p.node.host, step: step.id, audit: o.audit, now: o.now ?? Date.now, findmntVerify: p.state.findmntVerify, ...(o.signal && { signal: o.signal }) },
          plan.changes,
        );
        const ctx = contextFor(await gather(remote, p.input), p.input);
        const left = ctx ? planStep(step, ctx) : plan;
        if (left.changes.length > 0) {
          await tx.undo();
          throw new AppError('REMOTE_FAILED', `${plan.title} did not take; undone.`);
        }
      } catch (err) {
        if (o.signal?.aborted) throw err;
        failures.push(`${p.node.host}: ${err instanceof Error ? err.message : String(err)}`);
        break;
      }
    }
  }
  const after = await planTrust(d);
  if (failures.length) throw new AppError('REMOTE_FAILED', `Trust could not be set up on every node:\n${failures.join('\n')}`, { plan: after });
  return after;
}
