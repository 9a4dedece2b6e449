import { describe, expect, it } from 'vitest';
import { chooseCodec, codecRequest, codecsFromTools, compressArgv, decompressArgv } from '../../../shared/compression.ts';

const all = ['none', 'zstd', 'lz4', 'gzip', 'snappy'] as const;

describe('codecs', () => {
  it('each codec is a stdin→stdout filter pair; none adds no stage', () => {
    expect(compressArgv('zstd')).toEqual(['zstd', '-1', '-q', '-c']);
    expect(decompressArgv('zstd')).toEqual(['zstd', '-d', '-q', '-c']);
    expect(compressArgv('gzip')?.[0]).toBe('gzip');
    expect(decompressArgv('snappy')).toEqual(['snzip', '-d', '-c']);
    expect(compressArgv('none')).toBeNull();
  });
  it("accepts the seed's zlib as gzip", () => {
    expect(codecRequest.parse('zlib')).toBe('gzip');
    expect(codecRequest.parse('auto')).toBe('auto');
    expect(codecRequest.safeParse('bzip2').success).toBe(false);
  });
  it('detects codecs from the probed tools', () => {
    expect(codecsFromTools(new Set(['zstd', 'gzip', 'snzip']))).toEqual(['none', 'zstd', 'gzip', 'snappy']);
    expect(codecsFromTools(new Set())).toEqual(['none']);
  });
});

describe('codec choice', () => {
  const ends = (...lists: (readonly (typeof all)[number][])[]) => lists.map((codecs, i) => ({ node: `n${i}`, codecs }));
  it('auto prefers zstd, then lz4, and never picks gzip', () => {
    expect(chooseCodec('auto', ends(all, all))).toEqual({ codec: 'zstd', requested: 'auto' });
    expect(chooseCodec('auto', ends(all, ['none', 'lz4', 'gzip']))).toEqual({ codec: 'lz4', requested: 'auto' });
    const none = chooseCodec('auto', ends(all, ['none', 'gzip']));
    expect(none.codec).toBe('none');
    expect(none.note).toMatch(/zstd is missing on n1/);
  });
  it('a requested codec is used when every end has it', () => {
    expect(chooseCodec('gzip', ends(all, all, all))).toEqual({ codec: 'gzip', requested: 'gzip' });
  });
  it('a missing requested codec is replaced, and the note names the node and the fix', () => {
    const c = chooseCodec('snappy', ends(all, ['none', 'zstd'], all));
    expect(c.codec).toBe('zstd');
    expect(c.note).toBe('snappy was requested but snzip is missing on n1: zstd is used instead. Install snzip there to use snappy.');
    expect(chooseCodec('zstd', ends(all, ['none'])).note).toMatch(/the stream is sent uncompressed/);
  });
});
