import type { ZstdLevel } from '../../../shared/compression.ts';
import { formatBitRate, formatBytes, formatDuration, formatRate } from '../../../shared/units.ts';
import type { TransferMode, TransferRecord } from '../../../shared/transfers.ts';

/**
 * What `auto` compression knows of one receiver's link, and the choice it makes from that and
 * from the sender's compressor speed. Pure: the measurements are taken in replication.ts.
 */

export interface LinkFact {
  node: string;
  /** Bytes per second through the transfer's path. */
  rate: number;
  /** Where the figure comes from, for the plan's reader. */
  how: string;
}

/** The sender's zstd speed in uncompressed bytes per second per level, one core. */
export interface CompressorSpeed {
  speeds: Record<ZstdLevel, number>;
  /** Measured on the node; otherwise PERF-NOTES' figures. */
  measured: boolean;
}

export const ASSUMED_COMPRESSOR: CompressorSpeed = { speeds: { 1: 850e6, 3: 600e6 }, measured: false };

/**
 * The compressor shares the sender's cores with btrfs send and ssh's cipher: on 2 cores and a
 * ≈ 300 MB/s ssh path, zstd -1 (850 MB/s alone) gained only 1.04–1.13 ×. Compression is chosen
 * only where the link is at most this share of the compressor's speed.
 */
const LINK_SHARE = 1 / 4;
/** -3 costs ≈ 30 % more CPU for ≈ 4 % smaller streams: worth it only where the link is far slower. */
const LEVEL3_SHARE = 1 / 16;

// A short transfer is mostly fixed costs (handshakes, process starts): its rate says nothing of the link.
const HISTORY_MIN_BYTES = 16 * 1024 * 1024;
const HISTORY_MIN_MS = 2_000;
const HISTORY_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * The link to `target` as the most recent finished push from `source` to it alone (same mode)
 * showed it. An uncompressed, unstaged stream's rate is the link's; a compressed one's counts only
 * when it is far below the compressor (the link held it back, and the wire carried fewer bytes
 * still), a staged one's only when it is far below what staging could cost (STAGED_LINK_MAX), so
 * they can only say "slow link", never "fast": a fast link seen through a staged push would
 * otherwise look slow, and be staged to again.
 */
export function linkFromHistory(
  records: readonly TransferRecord[],
  q: { source: string; target: string; mode: TransferMode; compressor: CompressorSpeed; now: number },
): LinkFact | null {
  let best: { at: number; fact: LinkFact } | null = null;
  for (const r of records) {
    if (r.operation !== 'push' || r.state !== 'done' || r.source !== q.source || r.mode !== q.mode) continue;
    if (r.targets.length !== 1 || r.targets[0]!.node !== q.target || r.startedAt === undefined || r.endedAt === undefined) continue;
    const ms = r.endedAt - r.startedAt;
    if (ms < HISTORY_MIN_MS || r.bytes < HISTORY_MIN_BYTES || q.now - r.endedAt > HISTORY_MAX_AGE_MS) continue;
    const rate = (r.bytes * 1000) / ms;
    if (r.codec !== 'none' && rate > q.compressor.speeds[1] * LINK_SHARE) continue;
    if (r.staged && rate > STAGED_LINK_MAX) continue;
    if (best && best.at >= r.endedAt) continue;
    const when = new Date(r.endedAt).toISOString().slice(0, 16).replace('T', ' ');
    const how = r.codec === 'none' && !r.staged ? `push of ${formatBytes(r.bytes)} on ${when} UTC` : `at most, from a ${[r.codec === 'none' ? '' : r.codec, r.staged ? 'staged' : ''].filter(Boolean).join(', ')} push of ${formatBytes(r.bytes)} on ${when} UTC`;
    best = { at: r.endedAt, fact: { node: q.target, rate, how } };
  }
  return best?.fact ?? null;
}

export interface AutoChoice {
  level: ZstdLevel | null;
  reason: string;
}

/**
 * zstd where the slowest receiver's link is the bottleneck (level 3 where it is far below the
 * compressor), nothing where a link outruns it. With no figure for a link (relay with no history,
 * a probe that failed), zstd -1: the choice of a stream of unknown cost, as before auto.
 */
export function chooseZstdLevel(i: { source: string; links: readonly (LinkFact | { node: string; unknown: string })[]; compressor: CompressorSpeed }): AutoChoice {
  const cpu = (l: ZstdLevel) => `${i.source} compresses ${formatRate(i.compressor.speeds[l])} at zstd -${l} (${i.compressor.measured ? 'measured' : 'assumed'})`;
  const unknown = i.links.find((l) => 'unknown' in l);
  if (unknown) return { level: 1, reason: `zstd -1: the link to ${unknown.node} is not known (${unknown.unknown}), so the default.` };
  const known = i.links as readonly LinkFact[];
  const slowest = known.reduce((a, b) => (b.rate < a.rate ? b : a));
  const link = `link to ${slowest.node} measured ${formatBitRate(slowest.rate)} (${slowest.how})`;
  if (slowest.rate <= i.compressor.speeds[3] * LEVEL3_SHARE) return { level: 3, reason: `zstd -3: ${link}; ${cpu(3)}.` };
  if (slowest.rate <= i.compressor.speeds[1] * LINK_SHARE) return { level: 1, reason: `zstd -1: ${link}; ${cpu(1)}.` };
  return { level: null, reason: `none: ${link}, faster than the compressor can feed it while it shares the cores with send and ssh; ${cpu(1)}.` };
}

/**
 * Staging writes every byte a second time on the receiver. At or below this rate (a site link) a
 * cut costs more time re-sent than the staging costs; above it a re-send of a 60 GB image takes
 * under 16 min, and the second write slows every push where the receiver's CPU or disk is the
 * limit (the lab, its nodes sharing 2 CPUs: a direct push at 0.5 × the plain pipe with staging).
 */
export const STAGE_BELOW = 62.5e6;
/** A staged push slower than this was held back by its link, not by the second write (half STAGE_BELOW: any disk writes that twice). */
const STAGED_LINK_MAX = STAGE_BELOW / 2;

export interface StagingChoice {
  stage: boolean;
  /** Why not, for the plan; absent when it stages. */
  reason?: string;
}

/**
 * Whether a receiver keeps the stream as it arrives (a cut link or a restart resumes) or not (it
 * re-sends from the start): from its link, or the push's cap when that is slower. An unknown link
 * stages: the safe side.
 */
export function chooseStaging(i: { link: LinkFact | { node: string; unknown: string }; cap?: number | undefined; bytes: number | null }): StagingChoice {
  if ('unknown' in i.link) return { stage: true };
  const rate = Math.min(i.link.rate, i.cap ?? Infinity);
  if (rate <= STAGE_BELOW) return { stage: true };
  const resend = i.bytes === null ? '' : i.bytes / rate < 1 ? `, in under a second for ${formatBytes(i.bytes)}` : `, about ${formatDuration(i.bytes / rate)} for ${formatBytes(i.bytes)}`;
  return {
    stage: false,
    reason: `${i.link.node}'s link measured ${formatBitRate(i.link.rate)} (${i.link.how}), faster than ${formatBitRate(STAGE_BELOW)}: nothing is staged there, and a cut link or a restart of ${i.link.node} sends this push again from the start once it answers${resend}.`,
  };
}
