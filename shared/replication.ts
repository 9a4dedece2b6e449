import { z } from 'zod';
import { address, hostName } from './names.ts';
import {
  btrfsUuid,
  buildTree,
  CELL_STATES,
  type CellState,
  imageName,
  nodeRepo,
  rateLimit,
  repoPath,
  repoSettings,
  retentionPolicy,
  snapshot,
  snapshotNumber,
  type ActiveTransfer,
  type NodeRepo,
} from './snapshots.ts';
import { isTransferFinished, type PushPlan, type TransferRecord } from './transfers.ts';
import { formatBytes } from './units.ts';

/**
 * What the replication requests carry across the process boundary, beyond the engine's own
 * records (shared/snapshots.ts, shared/transfers.ts): the snapshot tree in a compact form (a
 * cell is one letter, its details come per snapshot on request), a snapshot's copies with their
 * lineage and retention, a node's raw subvolume list, and the small inputs.
 */

/** A copy's state in one letter; upper case: prune would delete that copy (its reasons: replication.snapshotInfo). */
const CELL_LETTER: Record<CellState, string> = { present: 'p', missing: 'm', diverged: 'd', transferring: 't' };
const LETTER_STATE = Object.fromEntries(Object.entries(CELL_LETTER).map(([state, letter]) => [letter, state])) as Record<string, CellState>;

/** What a few copies have to say: why diverged, why kept beyond the policy. */
const cellNote = z.object({ reason: z.string().optional(), pinned: z.string().optional() });

const sentStream = z.object({ bytes: z.number().int().nonnegative(), kind: z.enum(['full', 'incremental']), parent: snapshotNumber.nullable() });

/**
 * One image's snapshots, newest first, column by column: the window reads and parses every row
 * before its first render, and 10 000 rows × 4 nodes this way are about 0.7 MB (as objects with
 * a cell each, about 6 MB). rowsOf turns them back into rows.
 */
export const treeColumns = z.object({
  number: z.array(snapshotNumber),
  createdAt: z.array(z.number().nullable()),
  /** From the qgroup: null when quotas are off (the installer leaves them off). */
  referencedBytes: z.array(z.number().int().nullable()),
  /** The snapshot it follows (shared/snapshots.ts snapshotParents), on the node the row stands for. */
  parent: z.array(snapshotNumber.nullable()),
  /** One letter per node, in the tree's node order: p present, m missing, d diverged, t in transfer; upper case: prune would delete it. */
  cells: z.array(z.string().regex(/^[pmdtPD]*$/)),
  /** By row index: the newest finished push of it (transfer history), its stream's size uncompressed: the size there is without quotas. */
  sent: z.record(z.string(), sentStream),
  /** By row index, then node: the copies that have something to say. */
  notes: z.record(z.string(), z.record(hostName, cellNote)),
});

/** One snapshot of the tree (a row of the table). */
export interface TreeRowWire {
  number: number;
  createdAt: number | null;
  referencedBytes: number | null;
  sent?: z.infer<typeof sentStream>;
  parent: number | null;
  cells: string;
  notes?: Record<string, z.infer<typeof cellNote>>;
}

const decoded = new WeakMap<object, TreeRowWire[]>();

/** An image's rows from its columns; decoded once per tree read. */
export function rowsOf(image: { rows: z.infer<typeof treeColumns> }): TreeRowWire[] {
  const c = image.rows;
  let rows = decoded.get(c);
  if (!rows) {
    rows = c.number.map((number, i) => {
      const sent = c.sent[i];
      const notes = c.notes[i];
      return { number, createdAt: c.createdAt[i] ?? null, referencedBytes: c.referencedBytes[i] ?? null, parent: c.parent[i] ?? null, cells: c.cells[i] ?? '', ...(sent ? { sent } : {}), ...(notes ? { notes } : {}) };
    });
    decoded.set(c, rows);
  }
  return rows;
}

export interface TreeCellView {
  node: string;
  state: CellState;
  /** Prune would delete this copy. */
  prune: boolean;
  reason?: string;
  pinned?: string;
}

/** A row's cells as objects, for the few rows on screen (the wire keeps them as letters). */
export function cellsOf(row: TreeRowWire, nodes: readonly string[]): TreeCellView[] {
  return nodes.map((node, i) => ({ node, state: cellState(row, i), prune: isPrunable(row, i), ...row.notes?.[node] }));
}

/** The state of `nodes[i]`'s copy, without building the row's cells. */
export function cellState(row: TreeRowWire, i: number): CellState {
  return LETTER_STATE[(row.cells[i] ?? 'm').toLowerCase()] ?? 'missing';
}

/** Whether prune would delete `nodes[i]`'s copy. */
export function isPrunable(row: TreeRowWire, i: number): boolean {
  const letter = row.cells[i];
  return letter !== undefined && letter !== letter.toLowerCase();
}

/** The row with `nodes[i]`'s copy shown as in transfer (the live transfer list, between two reads of the nodes). */
export function withTransferring(row: TreeRowWire, i: number): TreeRowWire {
  return { ...row, cells: `${row.cells.slice(0, i)}${CELL_LETTER.transferring}${row.cells.slice(i + 1)}` };
}

export const treeImage = z.object({
  name: imageName,
  rows: treeColumns,
  nextParent: z.record(hostName, snapshotNumber.nullable()),
});

export const treeNode = z.object({
  name: hostName,
  role: nodeRepo.shape.role,
  root: repoPath,
  exists: z.boolean(),
  /** Listing problems, or why the node could not be read at all (down, refused). */
  problems: z.array(z.string()),
  /** What prune keeps here, in words (per-image exceptions named); absent when the settings could not be read. */
  retention: z.string().optional(),
});

export const snapshotTree = z.object({
  source: hostName,
  /** Column order: the source first, then the replicas by name. */
  nodes: z.array(treeNode),
  images: z.array(treeImage),
  at: z.number(),
});
export type SnapshotTree = z.infer<typeof snapshotTree>;

export interface RowSize {
  text: string;
  /** The figure is a stream's size from the transfer history, not the snapshot's own. */
  sent: boolean;
  title: string;
}

/**
 * What the Size column can honestly say without quotas: the qgroup's referenced size where quotas
 * are on; else the size of the newest stream that carried the snapshot, said to be one (a full
 * stream is about its data, an incremental one what changed since its parent).
 */
export function rowSize(row: TreeRowWire, source: string): RowSize {
  if (row.referencedBytes !== null) return { text: formatBytes(row.referencedBytes), sent: false, title: 'Referenced size (btrfs quota group)' };
  if (!row.sent) return { text: '–', sent: false, title: `Quotas are off and it was never sent from ${source}: select it and measure its disk use` };
  const what = row.sent.kind === 'full' ? 'a full stream' : `an incremental stream from ${row.sent.parent ?? 'its parent'}`;
  return {
    text: `${row.sent.kind === 'incremental' ? '+' : ''}${formatBytes(row.sent.bytes)}`,
    sent: true,
    title: `Last sent as ${what} of ${formatBytes(row.sent.bytes)} (transfer history; quotas are off): select it and measure its disk use`,
  };
}

/** Retention's verdict on one copy (core/replication/retention.ts), for the tree's cells. */
export type RetentionLookup = (node: string, image: string, number: number) => { keep: boolean; why: readonly string[] } | undefined;

/** The newest finished push of a snapshot, by `image@number`, from the transfer history. */
export type SentLookup = (image: string, number: number) => TreeRowWire['sent'];

// Only the verdicts an operator acts on travel: a copy prune would delete (its letter), and one
// kept for a reason stronger than the policy (newest, a push's parent, in use).
function pinnedBy(verdict: { keep: boolean; why: readonly string[] } | undefined): string | undefined {
  if (!verdict?.keep) return undefined;
  const strong = verdict.why.filter((w) => !/^(among the newest|younger than|no retention policy|its creation time)/.test(w));
  return strong.length ? strong.join('; ') : undefined;
}

/** Rows into the wire's columns (treeColumns). */
export function columnsOf(rows: readonly TreeRowWire[]): z.infer<typeof treeColumns> {
  const columns: z.infer<typeof treeColumns> = { number: [], createdAt: [], referencedBytes: [], parent: [], cells: [], sent: {}, notes: {} };
  rows.forEach((r, i) => {
    columns.number.push(r.number);
    columns.createdAt.push(r.createdAt);
    columns.referencedBytes.push(r.referencedBytes);
    columns.parent.push(r.parent);
    columns.cells.push(r.cells);
    if (r.sent) columns.sent[i] = r.sent;
    if (r.notes) columns.notes[i] = r.notes;
  });
  return columns;
}

/** The tree for the wire: buildTree's rows, each cell a letter and a note where it has one. */
export function wireTree(
  repos: readonly NodeRepo[],
  source: string,
  active: readonly ActiveTransfer[],
  at = Date.now(),
  retained?: RetentionLookup,
  sent?: SentLookup,
  policies?: ReadonlyMap<string, string>,
): SnapshotTree {
  const images = buildTree(repos, source, active).map((image) => ({
    name: image.name,
    nextParent: image.nextParent,
    rows: columnsOf(
      image.rows.map((row): TreeRowWire => {
        let cells = '';
        let notes: Record<string, z.infer<typeof cellNote>> | undefined;
        for (const c of row.cells) {
          const verdict = c.snapshot ? retained?.(c.node, image.name, row.number) : undefined;
          const letter = CELL_LETTER[c.state];
          cells += verdict && !verdict.keep ? letter.toUpperCase() : letter;
          const pinned = pinnedBy(verdict);
          if (c.reason || pinned) (notes ??= {})[c.node] = { ...(c.reason ? { reason: c.reason } : {}), ...(pinned ? { pinned } : {}) };
        }
        const carried = sent?.(image.name, row.number);
        return {
          number: row.number,
          createdAt: row.reference.createdAt,
          referencedBytes: row.reference.referencedBytes,
          ...(carried ? { sent: carried } : {}),
          parent: row.parent,
          cells,
          ...(notes ? { notes } : {}),
        };
      }),
    ),
  }));
  const ordered = [...repos].sort((a, b) => (a.node === source ? -1 : b.node === source ? 1 : a.node.localeCompare(b.node)));
  const nodes = ordered.map((r) => {
    const retention = policies?.get(r.node);
    return { name: r.node, role: r.role, root: r.root, exists: r.exists, problems: r.problems, ...(retention ? { retention } : {}) };
  });
  return { source, nodes, images, at };
}

// ——— one snapshot's copies: lineage, retention, size ————————————————————————————————————————

export const snapshotRef = z.object({ image: imageName, number: snapshotNumber }).strict();

/** The push that brought a copy, from the transfer history. */
const cameBy = z.object({
  transfer: z.string(),
  from: hostName,
  kind: z.enum(['full', 'incremental']),
  parent: snapshotNumber.nullable(),
  /** The stream's size, uncompressed. */
  bytes: z.number().int().nonnegative(),
  at: z.number().nullable(),
  schedule: z.string().optional(),
});

export const snapshotCopy = z.object({
  node: hostName,
  role: nodeRepo.shape.role,
  state: z.enum(CELL_STATES),
  /** The copy's btrfs facts; absent where it is missing. */
  snapshot: snapshot.optional(),
  /** The snapshot this copy follows on its node (shared/snapshots.ts snapshotParents); null: the first, or received whole. */
  parent: snapshotNumber.nullable(),
  came: cameBy.optional(),
  /** How it got there, where it diverged, or why it is missing, in words. */
  lineage: z.string(),
  /** Retention's verdict with every reason, and the policy it applied; absent where there is no copy or no verdict. */
  retention: z.object({ keep: z.boolean(), why: z.array(z.string()), policy: z.string() }).optional(),
});
export type SnapshotCopy = z.infer<typeof snapshotCopy>;

export const snapshotInfo = z.object({ image: imageName, number: snapshotNumber, source: hostName, copies: z.array(snapshotCopy) });
export type SnapshotInfo = z.infer<typeof snapshotInfo>;

export const measureInput = z.object({ node: hostName, image: imageName, number: snapshotNumber }).strict();

/** `btrfs filesystem du -s` of one snapshot: what it references, what only it holds (about what deleting it frees), what it shares with other subvolumes. */
export const snapshotUsage = z.object({ node: hostName, path: repoPath, totalBytes: z.number().int().nonnegative(), exclusiveBytes: z.number().int().nonnegative(), sharedBytes: z.number().int().nonnegative() });
export type SnapshotUsage = z.infer<typeof snapshotUsage>;

/** The snapshots the running pushes are writing, for the tree's "in transfer" cells (an upload writes no snapshot). */
export function activeTransfers(records: readonly TransferRecord[]): ActiveTransfer[] {
  return records.flatMap((r) =>
    r.operation === 'push' && !isTransferFinished(r.state) ? [{ image: r.image, number: r.number, targets: r.targets.filter((t) => t.state === 'pending').map((t) => t.node) }] : [],
  );
}

// ——— raw subvolume list ———————————————————————————————————————————————————————————————————————

export const subvolume = z.object({
  id: z.number().int(),
  generation: z.number().int(),
  parentId: z.number().int(),
  /** Path from the filesystem's top level (Lib/icbd/.snap/win10/3). */
  path: z.string(),
  uuid: btrfsUuid.nullable(),
  parentUuid: btrfsUuid.nullable(),
  receivedUuid: btrfsUuid.nullable(),
  readOnly: z.boolean(),
});
export type Subvolume = z.infer<typeof subvolume>;

export const subvolumeList = z.object({
  node: hostName,
  /** The btrfs mount the list was read through; null when the node has no btrfs at the usual places. */
  mount: z.string().nullable(),
  subvolumes: z.array(subvolume),
});
export type SubvolumeList = z.infer<typeof subvolumeList>;

const nullUuid = (v: string) => (btrfsUuid.safeParse(v).success ? v : null);

/** `btrfs subvolume list -p -u -q -R` lines; `readOnly` holds the ids `-r` listed. */
export function parseSubvolumeList(text: string, readOnly: ReadonlySet<number>): Subvolume[] {
  const out: Subvolume[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^ID (\d+) gen (\d+) parent (\d+) top level \d+ parent_uuid (\S+)\s+received_uuid (\S+)\s+uuid (\S+) path (.+)$/);
    if (!m) continue;
    const id = Number(m[1]);
    out.push({
      id,
      generation: Number(m[2]),
      parentId: Number(m[3]),
      parentUuid: nullUuid(m[4]!),
      receivedUuid: nullUuid(m[5]!),
      uuid: nullUuid(m[6]!),
      path: m[7]!.replace(/^<FS_TREE>\//, ''),
      readOnly: readOnly.has(id),
    });
  }
  // btrfs prints subvolumes below the subvolume it was asked through relative to that one
  // (win10/1 for Lib/icbd/.snap/win10/1): complete each path from its parent's.
  const byId = new Map(out.map((s) => [s.id, s]));
  const full = (s: Subvolume, depth = 0): string => {
    const parent = byId.get(s.parentId);
    if (!parent || depth > 64) return s.path;
    const above = full(parent, depth + 1);
    return s.path === above || s.path.startsWith(`${above}/`) ? s.path : `${above}/${s.path}`;
  };
  return out.map((s) => ({ ...s, path: full(s) })).sort((a, b) => a.path.localeCompare(b.path));
}

/** The ids in `btrfs subvolume list -r` output. */
export function parseSubvolumeIds(text: string): Set<number> {
  return new Set([...text.matchAll(/^ID (\d+) /gm)].map((m) => Number(m[1])));
}

// ——— inputs ————————————————————————————————————————————————————————————————————————————————

export const nodeImageInput = z.object({ node: hostName, image: imageName }).strict();

export const snapshotCreateInput = z
  .object({
    image: imageName,
    /** Default: the source (imgs). */
    node: hostName.optional(),
  })
  .strict();

export const snapshotDeleteInput = z
  .object({
    node: hostName,
    image: imageName,
    number: snapshotNumber,
    /** Delete even when a replica needs it as its incremental parent. */
    force: z.boolean().default(false),
  })
  .strict();

export const retireImageInput = z
  .object({
    node: hostName,
    image: imageName,
    /** Retire it even while a cache carries it or a transfer uses it; the reasons overridden are audited. */
    force: z.boolean().default(false),
  })
  .strict();

export const pruneInput = z
  .object({
    /** Default: imgs and every cache. */
    node: hostName.optional(),
    /** Say what would go and why each survivor stays; delete nothing. */
    dryRun: z.boolean().default(false),
  })
  .strict();

export const pruneReport = z.array(
  z.object({
    node: hostName,
    images: z.array(
      z.object({
        image: imageName,
        /** The policy in words, e.g. "keep the newest 3". */
        policy: z.string(),
        snapshots: z.array(
          z.object({
            number: snapshotNumber,
            path: z.string(),
            keep: z.boolean(),
            why: z.array(z.string()),
            /** Set on a real run for each snapshot that was not kept. */
            deleted: z.boolean().optional(),
            error: z.string().optional(),
          }),
        ),
      }),
    ),
  }),
);
export type PruneReport = z.infer<typeof pruneReport>;

export const settingsEntry = z.object({ node: hostName, settings: repoSettings });

export const settingsSetInput = z
  .object({
    node: hostName,
    settings: repoSettings
      .partial()
      .extend({
        /** null: back to the node's inventory address. */
        replicationAddress: address.nullable().optional(),
        /** null: no cap of its own. */
        rateLimit: rateLimit.nullable().optional(),
        /** null: back to the role's default. */
        retention: retentionPolicy.nullable().optional(),
      })
      .strict(),
  })
  .strict();
export type SettingsPatch = z.infer<typeof settingsSetInput>['settings'];

export interface KeysOffer {
  from: string;
  to: string[];
  /** Why the source cannot log in to each of `to`, as the plan said it. */
  reasons: { node: string; reason: string }[];
}

/**
 * The one replication.setupKeys input a push's or a sync's plans need before direct mode can
 * run (a sync has a plan per image, each naming the receivers it could not reach); undefined when
 * the source reaches every receiver.
 */
export function keysOffer(plans: readonly PushPlan[]): KeysOffer | undefined {
  const from = plans.find((p) => p.setupKeys)?.setupKeys?.from;
  if (!from) return undefined;
  const to = [...new Set(plans.flatMap((p) => p.setupKeys?.to ?? []))];
  const skipped = plans.flatMap((p) => p.skipped);
  return { from, to, reasons: to.map((node) => ({ node, reason: skipped.find((s) => s.node === node)?.reason ?? `${from} cannot log in to ${node}.` })) };
}
