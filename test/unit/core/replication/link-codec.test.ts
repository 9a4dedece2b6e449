import { describe, expect, it } from 'vitest';
import { linkProbeArgv, parseLinkProbe, parseZstdBench } from '../../../../electron/core/replication/commands.ts';
import { ASSUMED_COMPRESSOR, chooseStaging, chooseZstdLevel, linkFromHistory } from '../../../../electron/core/replication/link-codec.ts';
import { pushRecord } from '../../../fixtures/transfer-records.ts';

const NOW = Date.UTC(2026, 11, 6, 12, 0);
const MiB = 2 ** 20;
/** A finished push to cache01 alone that moved `bytes` in `seconds`, ending `ago` ms before NOW. */
const done = (bytes: number, seconds: number, over: Parameters<typeof pushRecord>[0] = {}, ago = 3600_000) =>
  pushRecord({ state: 'done', bytes, startedAt: NOW - ago - seconds * 1000, endedAt: NOW - ago, codec: 'none', targets: [{ node: 'cache01', state: 'done' }], ...over });
const q = { source: 'imgs', target: 'cache01', mode: 'direct' as const, compressor: ASSUMED_COMPRESSOR, now: NOW };

describe('link from the history', () => {
  it('takes the most recent long enough push to that node alone, in the same mode', () => {
    const fact = linkFromHistory([done(1200 * MiB, 100, {}, 7200_000), done(600 * MiB, 60, { id: 'bbbbbbbb-2222' })], q);
    expect(fact?.rate).toBeCloseTo((600 * MiB) / 60);
    expect(fact?.how).toBe('push of 600 MiB on 2026-12-06 11:00 UTC');
  });

  it('ignores what says nothing of the link: short, small, old, failed, fan-out, another mode or source', () => {
    const ignored = [
      done(600 * MiB, 1),
      done(4 * MiB, 10),
      done(600 * MiB, 60, {}, 8 * 24 * 3600_000),
      done(600 * MiB, 60, { state: 'failed' }),
      done(600 * MiB, 60, { targets: [{ node: 'cache01', state: 'done' }, { node: 'cache02', state: 'done' }] }),
      done(600 * MiB, 60, { mode: 'relay' }),
      done(600 * MiB, 60, { source: 'cache02' }),
    ];
    expect(linkFromHistory(ignored, q)).toBeNull();
  });

  it('a compressed push counts only when far below the compressor (then the link held it back)', () => {
    expect(linkFromHistory([done(6000 * MiB, 10, { codec: 'zstd' })], q)).toBeNull();
    expect(linkFromHistory([done(1200 * MiB, 100, { codec: 'zstd' })], q)?.how).toMatch(/^at most, from a zstd push of 1\.17 GiB/);
  });

  it('a staged push counts only when far below what staging could cost: a fast link seen through staging does not look slow', () => {
    // 120 MB/s: staging on a busy receiver may have held it back
    expect(linkFromHistory([done(1200 * MiB, 10, { staged: true })], q)).toBeNull();
    // 12 MB/s: the link did
    expect(linkFromHistory([done(1200 * MiB, 100, { staged: true })], q)?.how).toMatch(/^at most, from a staged push of 1\.17 GiB/);
  });
});

describe('the level', () => {
  const link = (rate: number, node = 'cache01') => ({ node, rate, how: 'probe' });
  const level = (...links: Parameters<typeof chooseZstdLevel>[0]['links']) => chooseZstdLevel({ source: 'imgs', links, compressor: ASSUMED_COMPRESSOR }).level;

  it('-3 on a site link, -1 on a link a quarter of the compressor, none above', () => {
    expect(level(link(12.5e6))).toBe(3);
    expect(level(link(37.5e6))).toBe(3);
    expect(level(link(38e6))).toBe(1);
    expect(level(link(212e6))).toBe(1);
    expect(level(link(213e6))).toBeNull();
  });

  it('the slowest receiver decides; an unknown one keeps the default', () => {
    expect(level(link(1e9), link(12.5e6, 'cache02'))).toBe(3);
    expect(level(link(1e9), { node: 'cache02', unknown: 'relay' })).toBe(1);
  });

  it('a slow measured compressor moves the bounds', () => {
    const slow = { speeds: { 1: 88e6, 3: 75e6 }, measured: true };
    expect(chooseZstdLevel({ source: 'imgs', links: [link(30e6)], compressor: slow })).toEqual({
      level: null,
      reason: 'none: link to cache01 measured 240 Mbit/s (probe), faster than the compressor can feed it while it shares the cores with send and ssh; imgs compresses 83.9 MiB/s at zstd -1 (measured).',
    });
  });
});

describe('measurements', () => {
  it("reads zstd's benchmark and the probe's line", () => {
    const bench = [
      'bench 1.5.4 : input 10000000 bytes, 0 seconds, 0 KB blocks',
      '-1      3154228 (3.170)  88.07 MB/s 1213.4 MB/s  Synthetic 50%',
      '-2      3129137 (3.196) 128.08 MB/s  796.3 MB/s  Synthetic 50%',
      '-3      3230847 (3.095)  85.25 MB/s  563.4 MB/s  Synthetic 50%',
    ].join('\n');
    expect(parseZstdBench(bench)).toEqual({ speeds: { 1: 88.07e6, 3: 85.25e6 }, measured: true });
    expect(parseZstdBench('zstd: unknown option -b')).toBeNull();
    expect(parseLinkProbe('icbd:link 8388608 1000000000 1671088640\n')).toBeCloseTo(12.5e6, -3);
    expect(parseLinkProbe('icbd:link 0 1 2\n')).toBeNull();
    expect(parseLinkProbe('')).toBeNull();
  });

  it("the probe sends through the leg it is given, asking the receiver's wrapper for `probe`", () => {
    const argv = linkProbeArgv((line) => ['ssh', 'root@cache01', line]);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3, 6)).toEqual(['sh', '64', 'ssh']);
    expect(argv.at(-1)).toBe('probe');
  });
});

describe('staging', () => {
  const link = (rate: number) => ({ node: 'cache01', rate, how: 'probe' });
  it('stages on a site link, on an unknown one, and under a cap below the threshold; not on a fast link, saying how long a re-send takes', () => {
    expect(chooseStaging({ link: link(12.5e6), bytes: 10 * MiB })).toEqual({ stage: true });
    expect(chooseStaging({ link: { node: 'cache01', unknown: 'no history' }, bytes: null })).toEqual({ stage: true });
    expect(chooseStaging({ link: link(1.25e9), cap: 20e6, bytes: null })).toEqual({ stage: true });
    expect(chooseStaging({ link: link(1.25e8), bytes: 106 }).reason).toMatch(/sends this push again from the start once it answers, in under a second for 106 B\.$/);
    expect(chooseStaging({ link: link(1.25e8), bytes: 60e9 }).reason).toBe(
      "cache01's link measured 1.0 Gbit/s (probe), faster than 500 Mbit/s: nothing is staged there, and a cut link or a restart of cache01 sends this push again from the start once it answers, about 8 min 00 s for 55.9 GiB.",
    );
  });
});
