import { describe, expect, it } from 'vitest';
import { jumpHostsFirst } from './import-order.ts';

const names = (hosts: { name: string }[]) => hosts.map((h) => h.name);

describe('jumpHostsFirst', () => {
  it('puts every jump host before the hosts reached through it, at any depth', () => {
    const hosts = [
      { name: 'cache02', jump: 'relay' },
      { name: 'cache01', jump: 'imgs' },
      { name: 'relay', jump: 'imgs' },
      { name: 'imgs' },
      { name: 'rw' },
    ];
    expect(names(jumpHostsFirst(hosts))).toEqual(['imgs', 'rw', 'cache01', 'relay', 'cache02']);
  });

  it('keeps hosts whose jump host is not among them (already in the inventory) in place', () => {
    expect(names(jumpHostsFirst([{ name: 'cache01', jump: 'imgs' }, { name: 'home' }]))).toEqual(['cache01', 'home']);
  });

  it('gives up on a cycle without looping, leaving it for the core to refuse', () => {
    const hosts = [{ name: 'a', jump: 'b' }, { name: 'b', jump: 'a' }, { name: 'c' }];
    expect(names(jumpHostsFirst(hosts))).toEqual(['c', 'a', 'b']);
  });
});
