/**
 * The names a node is known by in the other nodes' known_hosts (one line per node and key type,
 * written by trust and by replication's node keys alike): every name something will ssh to it by.
 */
import { describe, expect, it } from 'vitest';
import { peerOf } from '../../../../electron/core/installer/peers.ts';
import type { Host } from '../../../../shared/inventory.ts';
import { PLATFORM } from '../../../fixtures/installer.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq0';
const cache: Host = { name: 'cache01', address: '10.0.2.101', port: 22, user: 'root', role: 'cache', jump: 'imgs' };

describe('a node as the others see it', () => {
  it('a cache: its name and inventory address; imgs: also its platform address, which the nodes behind it route', () => {
    expect(peerOf(cache, PLATFORM, { hostKey: KEY })).toEqual({ name: 'cache01', names: ['cache01', '10.0.2.101'], sources: ['10.0.2.101'], address: '10.0.2.101', hostKey: KEY });
    const imgs: Host = { name: 'imgs', address: '192.0.2.10', port: 22, user: 'root', role: 'imgs' };
    expect(peerOf(imgs, PLATFORM, {}).names).toEqual(['imgs', '192.0.2.10', '10.0.2.251']);
  });

  it('direct replication\'s address is one of its names, on the SSH port the transfer uses', () => {
    expect(peerOf(cache, PLATFORM, {}, '10.9.0.101').names).toEqual(['cache01', '10.0.2.101', '10.9.0.101']);
    expect(peerOf({ ...cache, port: 2222 }, PLATFORM, {}, '10.9.0.101').names).toEqual(['cache01', '[10.0.2.101]:2222', '10.0.2.101', '[10.9.0.101]:2222']);
    expect(peerOf(cache, PLATFORM, {}, '10.0.2.101').names).toEqual(['cache01', '10.0.2.101']);
  });

  it('connects from its IP addresses (platform, inventory, replication), which its key is accepted from; never from a name', () => {
    const imgs: Host = { name: 'imgs', address: '192.0.2.10', port: 22, user: 'root', role: 'imgs' };
    expect(peerOf(imgs, PLATFORM, {}, '10.9.0.251').sources).toEqual(['10.0.2.251', '192.0.2.10', '10.9.0.251']);
    expect(peerOf({ ...cache, address: 'cache01.site.example' }, PLATFORM, {}).sources).toEqual([]);
    expect(peerOf({ ...cache, address: 'fd00::101' }, PLATFORM, {}).sources).toEqual(['fd00::101']);
  });
});
