import {
  defaultRetention,
  describePolicy,
  durationMs,
  parentsInUse,
  type NodeRepo,
  type RepoSettings,
  type RetentionPolicy,
} from '../../../shared/snapshots.ts';
import { isTransferFinished, type TransferRecord } from '../../../shared/transfers.ts';

/**
 * What prune keeps on a node, and why (btrbk's `preserve`, simplified): a snapshot survives when
 * the policy keeps it (among the newest `keep`, or younger than `within`; no policy keeps all) or
 * when deleting it would hurt:
 * - the newest of an image on a node: on a cache that is the copy it serves its clients (they
 *   boot the image's latest replicated version), on imgs the latest state of the image;
 * - the parent of the next incremental push to or from a peer (parentsInUse);
 * - one a queued, running or resumable transfer reads or writes (`busy`);
 * - a writable one: an interrupted receive, not a snapshot prune manages.
 * Pure: the executor is Replication.prune.
 */

export interface BusySnapshot {
  node: string;
  image: string;
  number: number;
  /** What uses it, e.g. "transfer 1a2b3c4d (push win10@7)". */
  by: string;
}

export interface SnapshotVerdict {
  number: number;
  path: string;
  keep: boolean;
  /** Why it stays, or why it goes: sentences an operator reads. */
  why: string[];
}

export interface ImageRetention {
  image: string;
  policy: RetentionPolicy;
  snapshots: SnapshotVerdict[];
}

export function policyFor(settings: Pick<RepoSettings, 'retention' | 'imageRetention'>, role: NodeRepo['role'], image: string): RetentionPolicy {
  return settings.imageRetention?.[image] ?? settings.retention ?? defaultRetention(role);
}

export interface RetentionInput {
  repos: readonly NodeRepo[];
  source: string;
  node: string;
  policy(image: string): RetentionPolicy;
  busy: readonly BusySnapshot[];
  now: number;
}

export function retention(input: RetentionInput): ImageRetention[] {
  const repo = input.repos.find((r) => r.node === input.node);
  if (!repo) return [];
  const role = repo.node === input.source ? 'source' : 'replica';
  return repo.images.map((image) => {
    const policy = input.policy(image.name);
    const pinned = parentsInUse(input.repos, input.source, input.node, image.name);
    const byNewest = [...image.snapshots].sort((a, b) => b.number - a.number);
    const readOnly = byNewest.filter((s) => s.readOnly);
    const rank = new Map(readOnly.map((s, k) => [s.number, k]));
    const verdicts = byNewest.map((s): SnapshotVerdict => {
      const why: string[] = [];
      const busy = input.busy.filter((b) => b.node === input.node && b.image === image.name && b.number === s.number);
      if (!s.readOnly) why.push('writable: an interrupted receive, not a snapshot; delete it by hand (snapshot delete) once no transfer runs');
      else if (rank.get(s.number) === 0) why.push(role === 'replica' ? `the newest: what ${input.node} serves its clients` : 'the newest of the image');
      for (const peer of pinned.get(s.number) ?? []) why.push(`the parent of the next incremental push ${role === 'source' ? 'to' : 'from'} ${peer}`);
      for (const b of busy) why.push(`in use by ${b.by}`);
      if (s.readOnly) why.push(...byPolicy(policy, rank.get(s.number)!, s.createdAt, input.now));
      const keep = why.length > 0;
      return { number: s.number, path: s.path, keep, why: keep ? why : [`not kept by the policy (${describePolicy(policy)})`] };
    });
    return { image: image.name, policy, snapshots: verdicts };
  });
}

function byPolicy(policy: RetentionPolicy, rank: number, createdAt: number | null, now: number): string[] {
  if (policy.keep === undefined && policy.within === undefined) return ['no retention policy: all are kept'];
  const why: string[] = [];
  if (policy.keep !== undefined && rank < policy.keep) why.push(`among the newest ${policy.keep}`);
  if (policy.within !== undefined) {
    if (createdAt === null) why.push('its creation time is unknown, so its age cannot be checked');
    else if (now - createdAt < durationMs(policy.within)) why.push(`younger than ${policy.within}`);
  }
  return why;
}

/** The snapshots retention would delete on each image, for a refusal that says what would free room. */
export function prunable(images: readonly ImageRetention[]): string[] {
  return images.flatMap((i) => i.snapshots.filter((s) => !s.keep).map((s) => `${i.image}@${s.number}`));
}

/** The snapshots unfinished pushes read or write: the sent one and its parent, on the source and every receiver. */
export function busySnapshots(records: readonly TransferRecord[]): BusySnapshot[] {
  return records.flatMap((r) => {
    if (r.operation !== 'push' || isTransferFinished(r.state)) return [];
    const by = `transfer ${r.id.slice(0, 8)} (push ${r.image}@${r.number})`;
    const numbers = r.parentNumber === null ? [r.number] : [r.number, r.parentNumber];
    return [r.source, ...r.targets.map((t) => t.node)].flatMap((node) => numbers.map((number) => ({ node, image: r.image, number, by })));
  });
}

/**
 * Why retiring `image` on `node` whole (Annex 1's deleteImage: snapshots and working copy) would
 * hurt: on the source, a replica still holds copies (retire it there first); on a replica, its
 * image list carries it while the source still has it (the next sync would bring it back); anywhere, a transfer uses it.
 */
export function retireBlockers(o: { repos: readonly NodeRepo[]; source: string; node: string; image: string; carried: boolean; busy: readonly BusySnapshot[] }): string[] {
  const blockers: string[] = [];
  if (o.node === o.source)
    for (const r of o.repos) {
      const held = r.node === o.source ? 0 : (r.images.find((i) => i.name === o.image)?.snapshots.length ?? 0);
      if (held) blockers.push(`${r.node} still carries ${o.image} (${held} snapshot${held > 1 ? 's' : ''}): retire it there first.`);
    }
  else if (o.carried) blockers.push(`${o.node}'s image list carries ${o.image}: the next sync would bring it back (take it out with icbd replication carry first).`);
  for (const by of new Set(o.busy.filter((b) => b.image === o.image && b.node === o.node).map((b) => b.by))) blockers.push(`${o.image} on ${o.node} is in use by ${by}.`);
  return blockers;
}
