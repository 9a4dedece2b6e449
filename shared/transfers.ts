import { z } from 'zod';
import { CODECS, ZSTD_LEVELS, codecRequest } from './compression.ts';
import { wireError } from './jobs.ts';
import { fileName, hostName, localFilePath } from './names.ts';
import { btrfsUuid, imageName, rateLimit, snapshotNumber } from './snapshots.ts';

/**
 * Transfers: one `btrfs send` stream from a source to one or more receivers (a fan-out), its
 * plan (shown before anything runs), and its record in the monitor and the history.
 */

export const TRANSFER_MODES = ['direct', 'relay', 'tcp'] as const;
/**
 * direct: the source streams to each receiver over OpenSSH with the nodes' keys (default).
 * relay: the app pipes an SSH channel running send into channels running receive.
 * tcp: the receiver listens once on its replication address; unencrypted, trusted networks only.
 */
export const transferMode = z.enum(TRANSFER_MODES);
export type TransferMode = z.infer<typeof transferMode>;

/** Who started a transfer when it was not the operator: a schedule, by name (the monitor and the history say so). */
export const transferOrigin = z.object({ schedule: z.string().min(1).max(40) }).strict();
export type TransferOrigin = z.infer<typeof transferOrigin>;

export const pushInput = z
  .object({
    source: hostName,
    targets: z.array(hostName).min(1, 'Name at least one receiving node.'),
    image: imageName,
    /** Default: the source's newest snapshot of the image. */
    number: snapshotNumber.optional(),
    mode: transferMode.default('direct'),
    compression: codecRequest.default('auto'),
    origin: transferOrigin.optional(),
    /** Bytes per second; default the receivers' own setting (RepoSettings.rateLimit), or none. */
    limitRate: rateLimit.optional(),
  })
  .strict();
export type PushInput = z.input<typeof pushInput>;

export const syncInput = z
  .object({
    source: hostName,
    /** Default: every node with a repository other than the source. */
    targets: z.array(hostName).optional(),
    mode: transferMode.default('direct'),
    compression: codecRequest.default('auto'),
    origin: transferOrigin.optional(),
    limitRate: rateLimit.optional(),
  })
  .strict();

export const plannedCommand = z.object({
  host: hostName,
  /** What it does, for the plan's reader. */
  purpose: z.string(),
  /** The exact command line run on `host`, rendered by shared/shell.ts. */
  command: z.string(),
});

/** One send stream: the receivers that share the same incremental parent (or all take a full send). */
export const transferGroup = z.object({
  kind: z.enum(['full', 'incremental']),
  parent: z.object({ number: snapshotNumber, uuid: btrfsUuid }).nullable(),
  targets: z.array(hostName).min(1),
  codec: z.enum(CODECS),
  /** Set when the codec is not the one requested: which nodes lack it and what is used instead. */
  codecNote: z.string().optional(),
  /** The cap on the stream's bytes on the wire (bytes per second); absent: none. */
  rateLimit: z.number().optional(),
  /** zstd's level when auto chose it (absent: the codec's default). */
  codecLevel: z.literal(ZSTD_LEVELS).optional(),
  /** What auto chose and why ("zstd -3: link to cache01 measured 94 Mbit/s …"). */
  codecReason: z.string().optional(),
  /** The stream's size before compression, estimated before the send; null when unknown. */
  estimatedBytes: z.number().int().nonnegative().nullable(),
  /** Where and how much the receivers stage (the room a resume needs), in words. */
  staging: z.string().optional(),
  commands: z.array(plannedCommand),
});
export type TransferGroup = z.infer<typeof transferGroup>;

export const pushPlan = z.object({
  source: hostName,
  image: imageName,
  number: snapshotNumber,
  uuid: btrfsUuid,
  mode: transferMode,
  /** false only for tcp: the UI says the stream crosses the network in clear. */
  encrypted: z.boolean(),
  groups: z.array(transferGroup),
  /** Receivers left out, each with the reason (already has it, diverged copy, does not carry it …). */
  skipped: z.array(z.object({ node: hostName, reason: z.string() })),
  warnings: z.array(z.string()),
  /**
   * Direct mode: receivers the source cannot log in to over SSH (no key, unknown host key). The
   * push is refused while this is set; `replication.setupKeys` with this input fixes it.
   */
  setupKeys: z.object({ from: hostName, to: z.array(hostName).min(1) }).optional(),
});
export type PushPlan = z.infer<typeof pushPlan>;

export const setupKeysInput = z.object({ from: hostName, to: z.array(hostName).min(1, 'Name at least one receiving node.') }).strict();

export const setupKeysResult = z.array(z.object({ node: hostName, ok: z.boolean(), detail: z.string() }));

export const syncPlan = z.object({ pushes: z.array(pushPlan), upToDate: z.boolean() });
export type SyncPlan = z.infer<typeof syncPlan>;

/** stalled: running, but no byte moved for the stall time (transfers/stall.ts); running again when bytes come. */
export const TRANSFER_STATES = ['queued', 'running', 'stalled', 'verifying', 'done', 'failed', 'cancelled'] as const;
export const transferState = z.enum(TRANSFER_STATES);
export type TransferState = z.infer<typeof transferState>;

export function isTransferFinished(state: TransferState): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled';
}

export const transferId = z.string().regex(/^[a-z0-9-]{8,64}$/, 'A transfer id is lowercase letters, digits and "-".');

export const targetResult = z.object({
  node: hostName,
  state: z.enum(['pending', 'done', 'failed']),
  error: z.string().optional(),
});

/** What every transfer's record has, whatever moves: where it goes, how far it is, how it ended. */
const transferProgress = {
  id: transferId,
  targets: z.array(targetResult).min(1),
  state: transferState,
  /** Bytes moved so far: of the uncompressed send stream (what the estimate is comparable with), or of the uploaded file. */
  bytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().nullable(),
  /** Bytes per second, smoothed; null before two samples. */
  rate: z.number().nonnegative().nullable(),
  /** 0..1 against totalBytes; null without an estimate. */
  fraction: z.number().min(0).max(1).nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
  queuedAt: z.number(),
  startedAt: z.number().optional(),
  /** The cap it runs under, in bytes per second (the request's, or the receiving node's setting); null or absent: none. */
  rateLimit: z.number().nullable().optional(),
  /** While stalled: when the last byte moved. */
  stalledSince: z.number().optional(),
  endedAt: z.number().optional(),
  error: wireError.optional(),
  /** The audit log could not record a change this transfer made to a node (the transfer went on). */
  auditError: z.string().optional(),
  /** What a running transfer waits for, in words ("link to cache01 down since 14:02, retrying"). */
  waiting: z.string().optional(),
};

export const pushRecord = z.object({
  /** History written before uploads existed has no operation: every such record is a push. */
  operation: z.literal('push').default('push'),
  source: hostName,
  image: imageName,
  number: snapshotNumber,
  mode: transferMode,
  kind: z.enum(['full', 'incremental']),
  parentNumber: snapshotNumber.nullable(),
  codec: z.enum(CODECS),
  codecNote: z.string().optional(),
  /** Absent: the operator started it. */
  origin: transferOrigin.optional(),
  codecLevel: transferGroup.shape.codecLevel,
  /** The sent snapshot's identity and its parent's: what a console started later checks the receivers against. */
  uuid: btrfsUuid.optional(),
  parentUuid: btrfsUuid.nullable().optional(),
  /** Interrupted with part of the stream staged on its receivers: `transfers.resume` goes on from there. */
  resumable: z.boolean().optional(),
  /** Its receivers kept the stream as it arrived (resumable): the second write may have held it back, so its rate is not the link's. */
  staged: z.boolean().optional(),
  ...transferProgress,
});
export type PushRecord = z.infer<typeof pushRecord>;

/** Where an upload goes on its node: an image's working subvolume (the next snapshot carries it), or the ISO subvolume. */
export const uploadInto = z.union([z.object({ image: imageName }).strict(), z.object({ iso: z.literal(true) }).strict()]);
export type UploadInto = z.infer<typeof uploadInto>;

export const uploadInput = z
  .object({
    node: hostName,
    /** A file on the machine the console's core runs on (in browser mode: the one running `icbd serve`). */
    file: localFilePath,
    into: uploadInto,
    /** The name on the node; default the local file's own name. */
    name: fileName.optional(),
    /** Replace a file of that name; without it an existing file is refused before anything is sent. */
    overwrite: z.boolean().default(false),
    /** Bytes per second; default the node's own setting (RepoSettings.rateLimit), or none. */
    limitRate: rateLimit.optional(),
  })
  .strict();
export type UploadInput = z.input<typeof uploadInput>;

export const uploadRecord = z.object({
  operation: z.literal('upload'),
  /** Uploads start on the operator's machine (where the core runs), not on a node: said in words, with its host name. */
  source: z.string(),
  file: localFilePath,
  into: uploadInto,
  /** The directory on the node and the file's name there. */
  dir: z.string(),
  name: fileName,
  overwrite: z.boolean(),
  ...transferProgress,
});
export type UploadRecord = z.infer<typeof uploadRecord>;

export const transferRecord = z.union([pushRecord, uploadRecord]);
export type TransferRecord = z.infer<typeof transferRecord>;

/** What a transfer moves, in a few words: `win10@3`, or `disk.img into win10`, `netinst.iso into iso`. */
export function transferSubject(r: TransferRecord): string {
  return r.operation === 'push' ? `${r.image}@${r.number}` : `${r.name} into ${'image' in r.into ? r.into.image : 'iso'}`;
}

export const transferLogLine = z.object({ id: transferId, at: z.number(), line: z.string() });

// ——— rate and ETA ——————————————————————————————————————————————————————————————————————————

export interface ProgressSample {
  at: number;
  bytes: number;
}

export interface ProgressFigures {
  rate: number | null;
  fraction: number | null;
  etaSeconds: number | null;
}

/** Seconds of samples the rate is averaged over: long enough to smooth pv's 1 s ticks and bursts. */
export const RATE_WINDOW_MS = 10_000;

/**
 * Rate over a sliding window, then fraction and ETA against the estimate. While the transfer
 * runs the fraction stops short of 1: an estimate that is a little low must not show 100 % with
 * data still flowing, and the ETA is then unknown rather than negative.
 */
export function progressFigures(samples: readonly ProgressSample[], totalBytes: number | null): ProgressFigures {
  const last = samples.at(-1);
  if (!last) return { rate: null, fraction: totalBytes === null ? null : 0, etaSeconds: null };
  const first = samples.find((s) => s.at >= last.at - RATE_WINDOW_MS) ?? last;
  const span = (last.at - first.at) / 1000;
  const rate = span > 0 ? Math.max(0, (last.bytes - first.bytes) / span) : null;
  if (totalBytes === null || totalBytes <= 0) return { rate, fraction: null, etaSeconds: null };
  const fraction = Math.min(0.999, last.bytes / totalBytes);
  const remaining = totalBytes - last.bytes;
  const etaSeconds = rate && remaining > 0 ? remaining / rate : null;
  return { rate, fraction, etaSeconds };
}

/** Keeps only the samples the rate window needs. */
export function pruneSamples(samples: ProgressSample[]): ProgressSample[] {
  const last = samples.at(-1);
  return last ? samples.filter((s) => s.at >= last.at - RATE_WINDOW_MS) : samples;
}
