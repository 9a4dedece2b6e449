import { z } from 'zod';
import { role } from './inventory.ts';
import { hostName } from './names.ts';
import { imageName, snapshotNumber } from './snapshots.ts';
import { HEALTH_STATES } from './ssh.ts';
import { scheduleView } from './schedules.ts';
import { transferRecord } from './transfers.ts';

/**
 * The morning-after overview (Cockpit's overview, btrbk's stats/list), the window's first view and
 * `icbd status`: nodes with health and disk use, how far each cache is behind imgs, transfers, and
 * every failure since the operator last acknowledged, each with what to do.
 */

/** `btrfs filesystem usage -b` of a repository's filesystem: what btrfs can still allocate, not df's guess. */
export const diskUse = z.object({
  sizeBytes: z.number().int().nonnegative(),
  usedBytes: z.number().int().nonnegative(),
  /** btrfs' "Free (estimated)", which counts the data profile's copies. */
  freeBytes: z.number().int().nonnegative(),
});
export type DiskUse = z.infer<typeof diskUse>;

export const overviewNode = z.object({
  host: hostName,
  role,
  state: z.enum(HEALTH_STATES),
  latencyMs: z.number().nonnegative().nullable(),
  /** The repository's filesystem; null on roles without one, or when it could not be read (see diskProblem). */
  disk: diskUse.nullable(),
  diskProblem: z.string().nullable(),
});
export type OverviewNode = z.infer<typeof overviewNode>;

export const LAG_STATES = ['current', 'behind', 'none', 'unknown'] as const;

/** One image on one cache against imgs. */
export const imageLag = z.object({
  image: imageName,
  cache: hostName,
  /** current: has imgs' newest; behind: lacks `missing` newer ones; none: holds no snapshot of it; unknown: a repository could not be read. */
  state: z.enum(LAG_STATES),
  /** 0 when unknown: the doors show nothing there. */
  missing: z.number().int().nonnegative(),
  /** imgs' newest snapshot number and the newest of imgs' snapshots the cache holds. */
  sourceNewest: snapshotNumber.nullable(),
  newest: snapshotNumber.nullable(),
  /** When imgs took the newest snapshot the cache holds (ms since the epoch): how old its clients' image is. */
  newestAt: z.number().nullable(),
});
export type ImageLag = z.infer<typeof imageLag>;

export const FAILURE_KINDS = ['host', 'transfer', 'disk', 'schedule'] as const;

export const overviewFailure = z.object({
  kind: z.enum(FAILURE_KINDS),
  /** The host, or what a transfer moved and where. */
  subject: z.string(),
  at: z.number(),
  message: z.string(),
  /** What the operator does next, in words with the command where there is one. */
  action: z.string(),
});
export type OverviewFailure = z.infer<typeof overviewFailure>;

export const overview = z.object({
  at: z.number(),
  /** When the operator last acknowledged (ms since the epoch); null = never: every failure on record counts. */
  lastLook: z.number().nullable(),
  /** The imgs node, or null when the inventory has none. */
  source: hostName.nullable(),
  nodes: z.array(overviewNode),
  lag: z.array(imageLag),
  running: z.array(transferRecord),
  queued: z.array(transferRecord),
  /** Every schedule with its last and next run. */
  schedules: z.array(scheduleView),
  failures: z.array(overviewFailure),
});
export type Overview = z.infer<typeof overview>;
