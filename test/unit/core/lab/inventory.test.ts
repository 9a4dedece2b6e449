import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addLabHosts } from '../../../../electron/core/lab/inventory.ts';
import { InventoryStore } from '../../../../electron/core/inventory/store.ts';

const labHosts = [
  { name: 'cache01', role: 'cache' as const, address: '10.213.2.101', port: 22, jump: 'imgs' },
  { name: 'imgs', role: 'imgs' as const, address: '10.213.200.10', port: 22 },
];

describe('adding the lab hosts to the inventory', () => {
  it('adds imgs before the hosts that jump through it, with the lab key, and is idempotent', async () => {
    const inv = new InventoryStore(mkdtempSync(join(tmpdir(), 'icbd-labhosts-')));
    expect(await addLabHosts(inv, labHosts, '/var/lib/icbd-lab/id_ed25519')).toEqual({ added: ['imgs', 'cache01'], kept: [] });
    expect(await inv.get('cache01')).toMatchObject({ jump: 'imgs', identityFile: '/var/lib/icbd-lab/id_ed25519', user: 'root' });
    expect(await addLabHosts(inv, labHosts, '/var/lib/icbd-lab/id_ed25519')).toEqual({ added: [], kept: [] });
  });

  it("never repoints the operator's own host of the same name", async () => {
    const inv = new InventoryStore(mkdtempSync(join(tmpdir(), 'icbd-labhosts-')));
    await inv.add({ name: 'imgs', address: '192.0.2.10', port: 22, user: 'root', role: 'imgs' });
    const { added, kept } = await addLabHosts(inv, labHosts, '/k');
    expect(added).toEqual([]);
    expect(kept[0]).toMatch(/Kept the inventory's own imgs \(192\.0\.2\.10:22\)/);
    expect(kept[1]).toMatch(/Did not add the lab's cache01/);
    expect((await inv.get('imgs')).address).toBe('192.0.2.10');
  });
});
