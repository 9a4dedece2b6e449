import { z } from 'zod';
import { address, hostName } from './names.ts';
import {
  btrfsUuid,
  buildTree,
  CELL_STATES,
  imageName,
  nodeRepo,
  rateLimit,
  repoPath,
  repoSettings,
  retentionPolicy,
  snapshotNumber,
  type ActiveTransfer,
  type NodeRepo,
} from './snapshots.ts';
import { isTransferFinished, type PushPlan, type TransferRecord } from './transfers.ts';

/**
 * What the replication requests carry across the process boundary, beyond the engine's own
 * records (shared/snapshots.ts, shared/transfers.ts): the snapshot tree in a compact form (a
 * cell names its state and size, not the whole snapshot again: 10 000 rows × 4 nodes stay a few
 * MB), a node's raw subvolume list, and the small inputs.
 */

export const treeCell = z.object({
  node: hostName,
  state: z.enum(CELL_STATES),
  reason: z.string().optional(),
  /** Retention's verdict on this copy when it matters: why prune would delete it, or why it must stay beyond the policy. */
  prune: z.string().optional(),
  pinned: z.string().optional(),
  referencedBytes: z.number().int().nullable().optional(),
  createdAt: z.number().nullable().optional(),
});

export const treeRow = z.object({
  number: snapshotNumber,
  uuid: btrfsUuid,
  createdAt: z.number().nullable(),
  referencedBytes: z.number().int().nullable(),
  exclusiveBytes: z.number().int().nullable(),
  parent: z.object({ uuid: btrfsUuid, number: snapshotNumber.optional() }).nullable(),
  cells: z.array(treeCell),
});
export type TreeRowWire = z.infer<typeof treeRow>;

export const treeImage = z.object({
  name: imageName,
  rows: z.array(treeRow),
  nextParent: z.record(hostName, snapshotNumber.nullable()),
});

export const treeNode = z.object({
  name: hostName,
  role: nodeRepo.shape.role,
  root: repoPath,
  exists: z.boolean(),
  /** Listing problems, or why the node could not be read at all (down, refused). */
  problems: z.array(z.string()),
});

export const snapshotTree = z.object({
  source: hostName,
  /** Column order: the source first, then the replicas by name. */
  nodes: z.array(treeNode),
  images: z.array(treeImage),
  at: z.number(),
});
export type SnapshotTree = z.infer<typeof snapshotTree>;

/** The tree for the wire: buildTree's rows with each cell reduced to what a column shows. */
/** Retention's verdict on one copy (core/replication/retention.ts), for the tree's cells. */
export type RetentionLookup = (node: string, image: string, number: number) => { keep: boolean; why: readonly string[] } | undefined;

// Only the verdicts an operator acts on travel: a copy prune would delete, and one kept for a reason
// stronger than the policy (newest, a push's parent, in use). 10 000 rows × 4 nodes stay small.
function verdictOf(retained: RetentionLookup | undefined, node: string, image: string, number: number): { prune?: string; pinned?: string } {
  const v = retained?.(node, image, number);
  if (!v) return {};
  if (!v.keep) return { prune: v.why.join('; ') };
  const strong = v.why.filter((w) => !/^(among the newest|younger than|no retention policy|its creation time)/.test(w));
  return strong.length ? { pinned: strong.join('; ') } : {};
}

export function wireTree(repos: readonly NodeRepo[], source: string, active: readonly ActiveTransfer[], at = Date.now(), retained?: RetentionLookup): SnapshotTree {
  const images = buildTree(repos, source, active).map((image) => ({
    name: image.name,
    nextParent: image.nextParent,
    rows: image.rows.map((row) => ({
      number: row.number,
      uuid: row.reference.uuid,
      createdAt: row.reference.createdAt,
      referencedBytes: row.reference.referencedBytes,
      exclusiveBytes: row.reference.exclusiveBytes,
      parent: row.parent,
      cells: row.cells.map((c) => ({
        node: c.node,
        state: c.state,
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.snapshot ? verdictOf(retained, c.node, image.name, row.number) : {}),
        ...(c.snapshot ? { referencedBytes: c.snapshot.referencedBytes, createdAt: c.snapshot.createdAt } : {}),
      })),
    })),
  }));
  const ordered = [...repos].sort((a, b) => (a.node === source ? -1 : b.node === source ? 1 : a.node.localeCompare(b.node)));
  return { source, nodes: ordered.map((r) => ({ name: r.node, role: r.role, root: r.root, exists: r.exists, problems: r.problems })), images, at };
}

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
