import { z } from 'zod';
import type { Role } from './inventory.ts';
import { address, hostName } from './names.ts';
import { ROLES } from './roles.ts';

/**
 * The image repository model (Annex 1's ImageRepo, per node): `<root>/<image>/<n>` read-only
 * snapshots, identified by btrfs UUIDs, never by name. Pure: parsing of btrfs-progs output,
 * identity, parent choice, the deletion guard and the images × nodes tree.
 */

// ——— names ———————————————————————————————————————————————————————————————————————————————

const NAME_CHARS = /^[A-Za-z0-9._-]+$/;

/** Says which character of a name is wrong, so a hostile name gets a precise refusal. */
function nameProblem(kind: string, value: string, leadingDot = false): string | undefined {
  if (value === '') return `${kind} is required.`;
  if (value.length > 64) return `${kind} has at most 64 characters.`;
  if (value === '.' || value === '..' || value.includes('..')) return `${kind} cannot contain "..".`;
  if (!NAME_CHARS.test(value)) {
    const bad = [...value].find((c) => !NAME_CHARS.test(c)) ?? '';
    const shown = /\s/.test(bad) ? 'a space or other blank' : `"${bad}"`;
    return `${kind} cannot contain ${shown}: use letters A–Z, a–z, digits, ".", "_" and "-".`;
  }
  if (!(leadingDot ? /^\.?[A-Za-z0-9]/ : /^[A-Za-z0-9]/).test(value)) return `${kind} starts with a letter or a digit.`;
  return undefined;
}

export const imageName = z.string().superRefine((v, ctx) => {
  const problem = nameProblem('An image name', v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Snapshot numbers are the directory names: 1, 2, … without leading zeros (01 and 1 would collide). */
export const snapshotNumber = z.coerce
  .number({ message: 'A snapshot number is a whole number.' })
  .int('A snapshot number is a whole number.')
  .min(1, 'Snapshot numbers start at 1.')
  .max(999_999_999, 'A snapshot number has at most 9 digits.');

const SNAPSHOT_DIR = /^[1-9][0-9]{0,8}$/;

/** An absolute path on a node, made of the same safe segments as names. */
export const repoPath = z.string().superRefine((v, ctx) => {
  if (!v.startsWith('/')) return void ctx.addIssue({ code: 'custom', message: 'A repository path is absolute (starts with /).' });
  for (const segment of v.slice(1).split('/')) {
    const problem = segment === '' ? 'A repository path has no empty segments (no "//" and no trailing "/").' : nameProblem('A path segment', segment, true);
    if (problem) return void ctx.addIssue({ code: 'custom', message: `${problem} (in ${JSON.stringify(v)})` });
  }
});

export const btrfsUuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'A btrfs UUID.');

// ——— records ——————————————————————————————————————————————————————————————————————————————

export const snapshot = z.object({
  image: imageName,
  number: snapshotNumber,
  path: repoPath,
  uuid: btrfsUuid,
  parentUuid: btrfsUuid.nullable(),
  receivedUuid: btrfsUuid.nullable(),
  readOnly: z.boolean(),
  /** ms since the epoch; null when btrfs-progs printed no parsable time. */
  createdAt: z.number().nullable(),
  generation: z.number().int(),
  /** From the subvolume's qgroup: null when quotas are off on that filesystem. */
  referencedBytes: z.number().int().nullable(),
  exclusiveBytes: z.number().int().nullable(),
});
export type Snapshot = z.infer<typeof snapshot>;

export const repoImage = z.object({
  name: imageName,
  snapshots: z.array(snapshot),
});
export type RepoImage = z.infer<typeof repoImage>;

export const nodeRepo = z.object({
  node: hostName,
  role: z.enum(['imgs', 'rw', 'home', 'cache']),
  root: repoPath,
  exists: z.boolean(),
  images: z.array(repoImage),
  /** Entries skipped while listing (bad names, subvolumes btrfs could not show), each explained. */
  problems: z.array(z.string()),
});
export type NodeRepo = z.infer<typeof nodeRepo>;

const TRANSFER_LIMIT = 'The transfer limit is a whole number from 1 to 16.';
const STALL_TIME = 'The stall time is a whole number of seconds from 10 to 3600.';
const RATE_LIMIT = 'A rate limit is a whole number of bytes per second, at least 64K (e.g. 20M: 20 MiB/s).';
/** A transfer's cap in bytes per second, like btrbk's rate_limit and syncoid's --target-bwlimit. */
export const rateLimit = z.number({ error: RATE_LIMIT }).int(RATE_LIMIT).min(65_536, RATE_LIMIT);
/** RepoSettings.stallSeconds when a node does not set it. */
export const DEFAULT_STALL_SECONDS = 60;
const RESUME_WAIT = 'The resume wait is a whole number of minutes from 0 to 1440.';
/** RepoSettings.resumeWaitMinutes when a node does not set it. */
export const DEFAULT_RESUME_WAIT_MINUTES = 30;

const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const KEEP = 'keep is a whole number of snapshots from 1 to 100000.';

/** btrbk's `preserve` simplified: the newest `keep`, and/or those younger than `within` ("14d", "12h", "2w", "90m"). */
export const retentionPolicy = z
  .object({
    keep: z.number({ error: KEEP }).int(KEEP).min(1, KEEP).max(100_000, KEEP).optional(),
    within: z
      .string()
      .regex(/^[1-9][0-9]{0,5}[mhdw]$/, 'keep-within is a number and a unit: m (minutes), h, d or w, e.g. 14d.')
      .optional(),
  })
  .strict();
export type RetentionPolicy = z.infer<typeof retentionPolicy>;

export function durationMs(within: string): number {
  return Number(within.slice(0, -1)) * DURATION_UNITS[within.slice(-1)]!;
}

export function describePolicy(p: RetentionPolicy): string {
  const parts = [p.keep !== undefined ? `the newest ${p.keep}` : '', p.within ? `those younger than ${p.within}` : ''].filter(Boolean);
  return parts.length ? `keep ${parts.join(' and ')}` : 'keep all';
}

/** A node's retention settings in words, its per-image exceptions named; with its role, what the role's default keeps. */
export function describeRetention(s: Pick<RepoSettings, 'retention' | 'imageRetention'>, role?: Role): string {
  const own = s.retention ? describePolicy(s.retention) : role ? `${describePolicy(defaultRetention(role))} (the ${role} default)` : 'role default';
  return [own, ...Object.entries(s.imageRetention ?? {}).map(([image, p]) => `${image}: ${describePolicy(p)}`)].join(', ');
}

// A cache only has to serve its newest copies and feed the next incremental; imgs holds the
// history operators roll back to, so it keeps everything until a policy says otherwise.
export function defaultRetention(role: Role): RetentionPolicy {
  return role === 'cache' ? { keep: 3 } : {};
}

/** Per-node replication settings; a node without an entry uses `defaultRepoSettings(role)`. */
export const repoSettings = z.object({
  root: repoPath,
  /** Where the images' working subvolumes live (`<workRoot>/<image>`), on the nodes that make snapshots. */
  workRoot: repoPath,
  /** The images this node carries as a replica; 'all' follows the source. */
  images: z.union([z.literal('all'), z.array(imageName)]),
  /** Transfers this node takes part in at once (as sender or receiver). */
  maxTransfers: z.number({ error: TRANSFER_LIMIT }).int(TRANSFER_LIMIT).min(1, TRANSFER_LIMIT).max(16, TRANSFER_LIMIT),
  /**
   * Seconds without a byte before a transfer this node takes part in shows as stalled; as long
   * again and it fails cleanly. A transfer waits as long as the most patient of its nodes.
   */
  stallSeconds: z.number({ error: STALL_TIME }).int(STALL_TIME).min(10, STALL_TIME).max(3600, STALL_TIME).optional(),
  /** The cap of a push to this node or an upload into it, unless the request gives one (bytes per second); none: as fast as it goes. */
  rateLimit: rateLimit.optional(),
  /** Address other nodes use to reach this one for replication (tcp transport); default its inventory address. */
  replicationAddress: address.optional(),
  /** What prune keeps on this node; default defaultRetention(role). */
  retention: retentionPolicy.optional(),
  /** Per image, instead of `retention`. */
  imageRetention: z.record(imageName, retentionPolicy).optional(),
  /** Minutes a push that lost this node mid-stream waits for it to answer again (then resumes); after that it fails and deletes what arrived. Default DEFAULT_RESUME_WAIT_MINUTES. */
  resumeWaitMinutes: z.number({ error: RESUME_WAIT }).int(RESUME_WAIT).min(0, RESUME_WAIT).max(1440, RESUME_WAIT).optional(),
});
export type RepoSettings = z.infer<typeof repoSettings>;

// The guide creates `.snap` on imgs and every cache and nothing else uses it: that is the snapshot
// repository. Working images live in shared-vms, which imgs exports to the platform.
export function defaultRepoSettings(role: Role): RepoSettings {
  const paths = ROLES[role].layout.map((l) => l.path);
  const root = paths.find((p) => p.endsWith('/.snap')) ?? '/var/lib/icbd/.snap';
  const workRoot = paths.find((p) => p.endsWith('/shared-vms')) ?? '/var/lib/icbd/shared-vms';
  return { root, workRoot, images: 'all', maxTransfers: 2 };
}

export function snapshotPath(root: string, image: string, number: number): string {
  return `${root}/${image}/${number}`;
}

export function nextSnapshotNumber(image: RepoImage | undefined): number {
  return Math.max(0, ...(image?.snapshots.map((s) => s.number) ?? [])) + 1;
}

// ——— parsing btrfs-progs output ————————————————————————————————————————————————————————————

export interface SubvolumeFacts {
  uuid: string;
  parentUuid: string | null;
  receivedUuid: string | null;
  readOnly: boolean;
  createdAt: number | null;
  generation: number;
  referencedBytes: number | null;
  exclusiveBytes: number | null;
}

const UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50 };

/** "83902464" (--raw) or "80.02MiB" (older btrfs-progs without --raw); "-" and "none" are null. */
function parseBytes(v: string | undefined): number | null {
  const m = v?.match(/^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|PiB)?$/);
  if (!m) return null;
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 'B'] ?? 1));
}

/** "2026-11-26 13:10:11 +0000"; older btrfs-progs omit the zone (read as UTC). */
function parseTime(v: string | undefined): number | null {
  const m = v?.match(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?: ([+-]\d\d)(\d\d))?$/);
  if (!m) return null;
  const t = Date.parse(`${m[1]}T${m[2]}${m[3] ? `${m[3]}:${m[4]}` : 'Z'}`);
  return Number.isNaN(t) ? null : t;
}

const uuidOrNull = (v: string | undefined) => (v && btrfsUuid.safeParse(v).success ? v : null);

/** `btrfs subvolume show --raw PATH`; throws when the text is not a subvolume's description. */
export function parseSubvolumeShow(text: string): SubvolumeFacts {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = line.match(/^\s+([A-Za-z][A-Za-z ()]*?):\s*(.*?)\s*$/);
    if (m?.[1] && !fields.has(m[1])) fields.set(m[1], m[2] ?? '');
  }
  const uuid = uuidOrNull(fields.get('UUID'));
  const generation = Number(fields.get('Generation'));
  if (!uuid || !Number.isInteger(generation)) throw new Error(`Not the output of btrfs subvolume show: ${text.trim().split('\n')[0] ?? '(empty)'}`);
  return {
    uuid,
    parentUuid: uuidOrNull(fields.get('Parent UUID')),
    receivedUuid: uuidOrNull(fields.get('Received UUID')),
    readOnly: /\breadonly\b/.test(fields.get('Flags') ?? ''),
    createdAt: parseTime(fields.get('Creation time')),
    generation,
    referencedBytes: parseBytes(fields.get('Usage referenced')),
    exclusiveBytes: parseBytes(fields.get('Usage exclusive')),
  };
}

/**
 * The output of the repository listing script (replication/commands.ts `listRepoArgv`): marker
 * lines `icbd:image NAME`, `icbd:snapshot N`, each snapshot followed by its
 * `btrfs subvolume show` text, and `icbd:failed N CODE` when show failed. One SSH round trip
 * gives every fact of every snapshot.
 */
export function parseRepoListing(node: string, role: Role, root: string, text: string): NodeRepo {
  const repo: NodeRepo = { node, role, root, exists: true, images: [], problems: [] };
  let image: RepoImage | undefined;
  let current: { number: number; lines: string[] } | undefined;
  const flush = () => {
    if (!current || !image) return;
    const path = snapshotPath(root, image.name, current.number);
    try {
      image.snapshots.push({ image: image.name, number: current.number, path, ...parseSubvolumeShow(current.lines.join('\n')) });
    } catch {
      repo.problems.push(`${path} is not a btrfs subvolume; it is ignored.`);
    }
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const marker = line.match(/^icbd:(no-root|image|snapshot|failed)(?: (.*))?$/);
    if (!marker) {
      current?.lines.push(line);
      continue;
    }
    const [, kind, arg = ''] = marker;
    if (kind === 'failed') current = undefined;
    flush();
    if (kind === 'no-root') repo.exists = false;
    else if (kind === 'image') {
      const problem = nameProblem('An image name', arg);
      image = problem ? undefined : { name: arg, snapshots: [] };
      if (image) repo.images.push(image);
      else repo.problems.push(`${root}/${arg}: ${problem} It is ignored.`);
    } else if (kind === 'snapshot' && image) {
      if (SNAPSHOT_DIR.test(arg)) current = { number: Number(arg), lines: [] };
      else repo.problems.push(`${root}/${image.name}/${arg} is not a snapshot number (1, 2, …); it is ignored.`);
    } else if (kind === 'failed' && image) repo.problems.push(`btrfs could not show ${root}/${image.name}/${arg.split(' ')[0]}; it is ignored.`);
  }
  flush();
  for (const i of repo.images) i.snapshots.sort((a, b) => a.number - b.number);
  repo.images.sort((a, b) => a.name.localeCompare(b.name));
  return repo;
}

// ——— identity ——————————————————————————————————————————————————————————————————————————————

type Identified = Pick<Snapshot, 'uuid' | 'receivedUuid'>;

/**
 * btrfs send writes the sent subvolume's received_uuid when it has one, else its uuid, and
 * receive stores that as the new received_uuid (the same rule picks the clone source of -p). So a
 * snapshot's identity is received_uuid ?? uuid: imgs' 5 and cache01's 5 are the same when
 * cache01's received_uuid is imgs' uuid, and two caches' copies are the same when they carry the
 * same received_uuid.
 */
export function identity(s: Identified): string {
  return s.receivedUuid ?? s.uuid;
}

export function sameSnapshot(a: Identified, b: Identified): boolean {
  return identity(a) === identity(b);
}

/** What a finished receive must look like: read-only, carrying the sender's identity. */
export function receivedProblem(received: SubvolumeFacts, sent: Identified): string | undefined {
  if (!received.readOnly) return 'the received subvolume is not read-only (the receive did not finish)';
  if (received.receivedUuid === null) return 'the received subvolume has no received_uuid (the receive did not finish)';
  if (received.receivedUuid !== identity(sent)) return `its received_uuid ${received.receivedUuid} is not the sent snapshot's identity ${identity(sent)}`;
  return undefined;
}

// ——— parent choice —————————————————————————————————————————————————————————————————————————

/**
 * The incremental parent for sending `target` from `sender` to `receiver`: the newest sender
 * snapshot older than the target whose identity the receiver holds read-only; failing that the
 * nearest newer one (btrfs can diff either way); null = full send. Matching is by identity only,
 * so a same-numbered snapshot of another identity (diverged) can never be picked.
 */
export function chooseParent(sender: readonly Snapshot[], receiver: readonly Snapshot[], target: Snapshot): Snapshot | null {
  const held = new Set(receiver.filter((r) => r.readOnly).map(identity));
  const common = sender.filter((s) => s.readOnly && s.uuid !== target.uuid && held.has(identity(s)));
  const older = common.filter((s) => s.number < target.number).sort((a, b) => b.number - a.number);
  const newer = common.filter((s) => s.number > target.number).sort((a, b) => a.number - b.number);
  return older[0] ?? newer[0] ?? null;
}

/** The newest snapshot two nodes have in common by identity (the parent of their next push). */
export function newestCommon(a: readonly Snapshot[], b: readonly Snapshot[]): Snapshot | null {
  const held = new Set(b.filter((s) => s.readOnly).map(identity));
  return [...a].filter((s) => s.readOnly && held.has(identity(s))).sort((x, y) => y.number - x.number)[0] ?? null;
}

// ——— deletion guard ————————————————————————————————————————————————————————————————————————

export function findImage(repo: NodeRepo | undefined, image: string): RepoImage | undefined {
  return repo?.images.find((i) => i.name === image);
}

export function carries(settings: Pick<RepoSettings, 'images'>, image: string): boolean {
  return settings.images === 'all' || settings.images.includes(image);
}

/**
 * The snapshots of `image` on `node` that are the newest it shares with a peer (the source when
 * `node` is a replica, each replica when it is the source): the parent of the next push between
 * them. By snapshot number, the peers it is the parent for.
 */
export function parentsInUse(repos: readonly NodeRepo[], source: string, node: string, image: string): Map<number, string[]> {
  const pinned = new Map<number, string[]>();
  const mine = findImage(repos.find((r) => r.node === node), image);
  if (!mine) return pinned;
  const peers = node === source ? repos.filter((r) => r.node !== source) : repos.filter((r) => r.node === source);
  for (const peer of peers) {
    const theirs = findImage(peer, image);
    const common = theirs && newestCommon(mine.snapshots, theirs.snapshots);
    if (common) pinned.set(common.number, [...(pinned.get(common.number) ?? []), peer.node]);
  }
  return pinned;
}

/**
 * Why deleting `number` of `image` on `node` would cost a replica its incremental parent. Empty =
 * safe to delete. Deleting an older common snapshot is fine: a newer one serves as parent.
 */
export function deletionBlockers(repos: readonly NodeRepo[], source: string, node: string, image: string, number: number): string[] {
  return (parentsInUse(repos, source, node, image).get(number) ?? []).map(
    (peer) => `${image}@${number} is the newest snapshot ${node} shares with ${peer}: without it the next push between them is a full send.`,
  );
}

/**
 * The snapshot each of `snapshots` (one image on one node) follows, by number. A snapshot's btrfs
 * parent_uuid is the subvolume it was snapshotted from: on the source that is the image's working
 * copy, so there the relation that means something is the previous snapshot; on a replica an
 * incremental receive snapshots its parent first, so parent_uuid names the local copy the stream
 * was applied to, and a full receive has none (null). A parent_uuid naming a sibling wins
 * everywhere (a snapshot taken from a snapshot, an incremental receive).
 */
export function snapshotParents(snapshots: readonly Snapshot[], onSource: boolean): Map<number, Snapshot | null> {
  const byUuid = new Map(snapshots.map((s) => [s.uuid, s]));
  const parents = new Map<number, Snapshot | null>();
  let previous: Snapshot | null = null;
  for (const s of [...snapshots].sort((a, b) => a.number - b.number)) {
    parents.set(s.number, (s.parentUuid ? byUuid.get(s.parentUuid) : undefined) ?? (onSource ? previous : null));
    if (s.readOnly) previous = s;
  }
  return parents;
}

// ——— the tree: images × snapshots × nodes ——————————————————————————————————————————————————

export const CELL_STATES = ['present', 'missing', 'diverged', 'transferring'] as const;
export type CellState = (typeof CELL_STATES)[number];

export interface TreeCell {
  node: string;
  state: CellState;
  snapshot?: Snapshot;
  /** Why a cell is diverged. */
  reason?: string;
}

export interface TreeRow {
  number: number;
  /** The snapshot this row stands for: the source's, else the first node's that has the number. */
  reference: Snapshot;
  /** The snapshot `reference` follows on its node (snapshotParents); null for a first or full copy. */
  parent: number | null;
  cells: TreeCell[];
}

export interface TreeImage {
  name: string;
  rows: TreeRow[];
  /** Per node, the snapshot number the next push from the source would use as parent. */
  nextParent: Record<string, number | null>;
}

export interface ActiveTransfer {
  image: string;
  number: number;
  targets: readonly string[];
}

export function buildTree(repos: readonly NodeRepo[], source: string, active: readonly ActiveTransfer[] = []): TreeImage[] {
  const ordered = [...repos].sort((a, b) => (a.node === source ? -1 : b.node === source ? 1 : a.node.localeCompare(b.node)));
  const names = [...new Set(ordered.flatMap((r) => r.images.map((i) => i.name)))].sort();
  const sourceRepo = ordered.find((r) => r.node === source);
  // Indexed once per image: the tree must stay fast with 10 000 snapshots on each of several nodes.
  const busyKeys = new Set(active.flatMap((t) => t.targets.map((n) => `${t.image}@${t.number}@${n}`)));
  return names.map((name) => {
    const byNode = new Map(ordered.map((r) => [r.node, new Map((findImage(r, name)?.snapshots ?? []).map((s) => [s.number, s]))]));
    const parents = new Map<string, Map<number, Snapshot | null>>();
    const parentsOn = (r: NodeRepo) => parents.get(r.node) ?? parents.set(r.node, snapshotParents(findImage(r, name)!.snapshots, r.node === source)).get(r.node)!;
    const numbers = [...new Set(ordered.flatMap((r) => [...byNode.get(r.node)!.keys()]))].sort((a, b) => b - a);
    let onSource: Map<string, Snapshot> | undefined;
    // Where a diverged copy's own line left the source's: its nearest ancestor on its node that the source holds.
    const divergence = (r: NodeRepo, s: Snapshot): string => {
      onSource ??= new Map((findImage(sourceRepo, name)?.snapshots ?? []).filter((x) => x.readOnly).map((x) => [identity(x), x]));
      const seen = new Set<number>();
      for (let a = parentsOn(r).get(s.number); a && !seen.has(a.number); a = parentsOn(r).get(a.number)) {
        seen.add(a.number);
        const common = onSource.get(identity(a));
        if (common) return `it diverged after ${name}@${common.number} (${r.node}'s ${a.number}), the last snapshot of its line that ${source} has`;
      }
      const shared = newestCommon(findImage(r, name)!.snapshots.filter((x) => x.number < s.number), [...onSource.values()]);
      return shared ? `its line shares nothing with ${source}'s beyond ${name}@${shared.number}` : `it shares no snapshot with ${source}`;
    };
    const rows = numbers.map((number): TreeRow => {
      const at = (r: NodeRepo) => byNode.get(r.node)!.get(number);
      const holder = ordered.find((r) => at(r) !== undefined)!;
      const reference = at(holder)!;
      const cells = ordered.map((r): TreeCell => {
        const s = at(r);
        const busy = busyKeys.has(`${name}@${number}@${r.node}`);
        if (busy) return { node: r.node, state: 'transferring' };
        if (!s) return { node: r.node, state: 'missing' };
        if (sameSnapshot(s, reference)) return { node: r.node, state: 'present', snapshot: s };
        const reason = !s.readOnly
          ? `${r.node}'s ${name}@${number} is writable: an incomplete receive or not a snapshot; delete it and push again.`
          : `${r.node}'s ${name}@${number} is another snapshot (identity ${identity(s)}, not ${identity(reference)}): ${divergence(r, s)}; it is never used as a parent.`;
        return { node: r.node, state: 'diverged', snapshot: s, reason };
      });
      return {
        number,
        reference,
        parent: parentsOn(holder).get(number)?.number ?? null,
        cells,
      };
    });
    const mine = findImage(sourceRepo, name)?.snapshots ?? [];
    const nextParent = Object.fromEntries(
      ordered.filter((r) => r.node !== source).map((r) => [r.node, newestCommon(mine, findImage(r, name)?.snapshots ?? [])?.number ?? null]),
    );
    return { name, rows, nextParent };
  });
}
