import { describe, expect, it } from 'vitest';
import { forgettableAddress } from './known-host-address.ts';

describe('forgettableAddress', () => {
  it('reads the names the console writes: address on port 22, [address]:port otherwise', () => {
    expect(forgettableAddress('10.0.0.10')).toEqual({ address: '10.0.0.10', port: 22 });
    expect(forgettableAddress('[10.0.0.10]:2222')).toEqual({ address: '10.0.0.10', port: 2222 });
    expect(forgettableAddress('[fd00::22]:22')).toEqual({ address: 'fd00::22', port: 22 });
    expect(forgettableAddress('cache02.lab.example')).toEqual({ address: 'cache02.lab.example', port: 22 });
  });

  it('offers nothing for lines the console did not write', () => {
    expect(forgettableAddress('imgs,10.0.0.10')).toBeUndefined();
    expect(forgettableAddress('*.lab.example')).toBeUndefined();
    expect(forgettableAddress('(hashed)')).toBeUndefined();
  });
});
