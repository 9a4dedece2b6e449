import { describe, expect, it } from 'vitest';
import { formatRate, parseLinkList, parseRate } from '../../../../electron/core/lab/links.ts';
import { linkRate } from '../../../../shared/lab.ts';

describe('lab link rates', () => {
  it('reads tc-style rates, and off', () => {
    expect(parseRate('100mbit')).toBe(100e6);
    expect(parseRate('1gbit')).toBe(1e9);
    expect(parseRate('1.5mbit')).toBe(1.5e6);
    expect(parseRate('512kbit')).toBe(512e3);
    expect(parseRate('off')).toBeNull();
  });

  it('refuses what tc would not take, or a link no site has, with the fix', () => {
    for (const bad of ['fast', '100', '100mb', '100 Mbit/s', '-5mbit', '10kbit', '20gbit', '']) {
      expect(() => parseRate(bad), bad).toThrow(/bad link rate/);
    }
    expect(() => parseRate('fast')).toThrow(expect.objectContaining({ fix: expect.stringMatching(/like 50mbit, 100mbit or 1gbit, or off/) }));
  });

  it('says a rate the way it was given', () => {
    expect(formatRate(100e6)).toBe('100mbit');
    expect(formatRate(1e9)).toBe('1gbit');
    expect(formatRate(1.5e6)).toBe('1.5mbit');
    expect(formatRate(512e3)).toBe('512kbit');
    expect(formatRate(undefined)).toBe('unshaped');
    for (const r of ['50mbit', '100mbit', '1gbit', '2.5gbit', '64kbit']) expect(formatRate(parseRate(r))).toBe(r);
  });

  it('reads --link lists, refusing a malformed item', () => {
    expect(parseLinkList('cache01=100mbit,imgs=1gbit,cache02=off')).toEqual([['cache01', 100e6], ['imgs', 1e9], ['cache02', null]]);
    expect(parseLinkList('')).toEqual([]);
    expect(() => parseLinkList('cache01:100mbit')).toThrow(/bad link "cache01:100mbit"/);
    expect(() => parseLinkList('cache01=1=2')).toThrow(/bad link/);
  });

  it('the contract lets through only what the lab can read', () => {
    for (const ok of ['50mbit', '1gbit', '1.5mbit', 'off']) expect(linkRate.safeParse(ok).success).toBe(true);
    for (const bad of ['fast', '100', '100 mbit', '']) expect(linkRate.safeParse(bad).success).toBe(false);
  });
});
