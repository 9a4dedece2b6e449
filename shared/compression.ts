import { z } from 'zod';

/**
 * Compression of the send stream (Annex 1's compressionlib: zlib, lz4, snappy — here as the
 * command-line tools each node has). Codecs run inside the remote pipeline, never in the app.
 * Measured (PERF-NOTES): zstd -1 ≈ lz4 in speed with a better ratio; snappy is fastest but has
 * no streaming tool on Debian; gzip (the seed's zlib) tops out at ≈ 84 MB/s, slower than a
 * gigabit link, so it is used only when asked for.
 */

export const CODECS = ['none', 'zstd', 'lz4', 'gzip', 'snappy'] as const;
export type Codec = (typeof CODECS)[number];

/** A requested codec: one of CODECS, 'auto', or the seed's name 'zlib' for gzip. */
export const codecRequest = z.preprocess(
  (v) => (v === 'zlib' ? 'gzip' : v),
  z.enum([...CODECS, 'auto'], { message: `Compression is one of ${CODECS.join(', ')} or auto.` }),
);
export type CodecRequest = Codec | 'auto';

/** The command each codec needs on a node (snappy: snzip, whose default is the framing format). */
export const CODEC_TOOL: Readonly<Record<Exclude<Codec, 'none'>, string>> = {
  zstd: 'zstd',
  lz4: 'lz4',
  gzip: 'gzip',
  snappy: 'snzip',
};

// Level 1 everywhere: on these links the codec must keep up with btrfs send (≈ 850 MB/s).
const COMPRESS: Readonly<Record<Exclude<Codec, 'none'>, readonly string[]>> = {
  zstd: ['zstd', '-1', '-q', '-c'],
  lz4: ['lz4', '-1', '-q', '-c'],
  gzip: ['gzip', '-1', '-c'],
  snappy: ['snzip', '-c'],
};
const DECOMPRESS: Readonly<Record<Exclude<Codec, 'none'>, readonly string[]>> = {
  zstd: ['zstd', '-d', '-q', '-c'],
  lz4: ['lz4', '-d', '-q', '-c'],
  gzip: ['gzip', '-d', '-c'],
  snappy: ['snzip', '-d', '-c'],
};

/** The zstd levels auto chooses between (PERF-NOTES measured both); other codecs run at their default. */
export const ZSTD_LEVELS = [1, 3] as const;
export type ZstdLevel = (typeof ZSTD_LEVELS)[number];

/** How a plan, a record and the CLI name the codec: `zstd -3`, `none`. */
export function codecLabel(codec: Codec, level?: ZstdLevel): string {
  return codec === 'zstd' && level ? `zstd -${level}` : codec;
}

/** stdin → stdout filters; null for 'none' (no stage in the pipeline). A level applies to zstd only. */
export function compressArgv(codec: Codec, level?: ZstdLevel): readonly string[] | null {
  if (codec === 'none') return null;
  return codec === 'zstd' && level ? ['zstd', `-${level}`, '-q', '-c'] : COMPRESS[codec];
}
export function decompressArgv(codec: Codec): readonly string[] | null {
  return codec === 'none' ? null : DECOMPRESS[codec];
}

/** Preference for 'auto': fastest good ratio first; gzip never (a bottleneck on any fast link). */
const AUTO_ORDER: readonly Codec[] = ['zstd', 'lz4', 'snappy'];

/** The codecs whose tool a node's probe found ('none' always). */
export function codecsFromTools(tools: ReadonlySet<string>): Codec[] {
  return CODECS.filter((c) => c === 'none' || tools.has(CODEC_TOOL[c]));
}

export interface CodecChoice {
  codec: Codec;
  requested: CodecRequest;
  /** Set whenever the codec is not the one asked for, naming the nodes that lack it. */
  note?: string;
}

/**
 * One codec for a stream that every end must handle: the sender compresses once, each receiver
 * of a fan-out decompresses. A requested codec missing on any end is replaced by the best one
 * they all have, and the note says so — a plan never drops compression silently.
 */
export function chooseCodec(requested: CodecRequest, ends: readonly { node: string; codecs: readonly Codec[] }[]): CodecChoice {
  const everywhere = (c: Codec) => ends.every((e) => e.codecs.includes(c));
  const best = AUTO_ORDER.find(everywhere) ?? 'none';
  if (requested === 'auto') {
    if (best !== 'none') return { codec: best, requested };
    const lacking = ends.filter((e) => !e.codecs.includes('zstd')).map((e) => e.node);
    return { codec: 'none', requested, note: `No codec is available on every node (zstd is missing on ${lacking.join(', ')}); the stream is sent uncompressed.` };
  }
  if (everywhere(requested)) return { codec: requested, requested };
  const lacking = ends.filter((e) => !e.codecs.includes(requested)).map((e) => e.node);
  const tool = requested === 'none' ? requested : CODEC_TOOL[requested];
  const instead = best === 'none' ? 'the stream is sent uncompressed' : `${best} is used instead`;
  return { codec: best, requested, note: `${requested} was requested but ${tool} is missing on ${lacking.join(', ')}: ${instead}. Install ${tool} there to use ${requested}.` };
}
