import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../../electron/core/util/events.ts';
import { InventoryStore } from '../../../../electron/core/inventory/store.ts';
import { host, inventoryProblems, jumpChain, type Host } from '../../../../shared/inventory.ts';

const h = (name: string, extra: Partial<Host> = {}): Host => host.parse({ name, address: `${name}.lab`, role: 'cache', ...extra });
const store = () => new InventoryStore(mkdtempSync(join(tmpdir(), 'icbd-inv-')));

describe('inventory rules', () => {
  it('finds duplicate names, missing jump hosts and jump loops', () => {
    expect(inventoryProblems([h('a'), h('a')])[0]).toMatchObject({ field: 'name' });
    expect(inventoryProblems([h('a', { jump: 'b' })])[0]!.message).toMatch(/not in the inventory/);
    expect(inventoryProblems([h('a', { jump: 'a' })])[0]!.message).toMatch(/own jump host/);
    expect(inventoryProblems([h('a', { jump: 'b' }), h('b', { jump: 'a' })]).map((p) => p.host)).toEqual(['a', 'b']);
    expect(inventoryProblems([h('imgs'), h('cache01', { jump: 'imgs' })])).toEqual([]);
  });

  it('orders a jump chain outermost first', () => {
    const hosts = [h('gw'), h('imgs', { jump: 'gw' }), h('cache01', { jump: 'imgs' })];
    expect(jumpChain(hosts, 'cache01').map((x) => x.name)).toEqual(['gw', 'imgs']);
    expect(jumpChain(hosts, 'gw')).toEqual([]);
  });
});

describe('inventory store', () => {
  it('adds, updates with rename (repointing jump users) and removes', async () => {
    const s = store();
    await s.add(h('imgs', { role: 'imgs' }));
    await s.add(h('cache01', { jump: 'imgs' }));
    await s.update('imgs', h('imgs2', { role: 'imgs' }));
    expect((await s.get('cache01')).jump).toBe('imgs2');
    await expect(s.remove('imgs2')).rejects.toMatchObject({ code: 'CONFLICT' });
    await s.remove('cache01');
    await s.remove('imgs2');
    expect(await s.list()).toEqual([]);
  });

  it('changes nothing when a change is refused', async () => {
    const s = store();
    await s.add(h('imgs', { role: 'imgs' }));
    const before = readFileSync(s.path, 'utf8');
    await expect(s.add(h('imgs'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(s.add(h('c1', { jump: 'nope' }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(readFileSync(s.path, 'utf8')).toBe(before);
  });

  it('says which file is broken instead of starting over', async () => {
    const s = store();
    writeFileSync(s.path, '{"version":1,"hosts":[{"name":"Bad!"}]}');
    await expect(s.list()).rejects.toThrow(/does not hold a valid inventory/);
    writeFileSync(s.path, '{');
    await expect(s.list()).rejects.toThrow(/not valid JSON/);
  });

  it('loses no update when two writers race', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'icbd-inv-'));
    const a = new InventoryStore(dir);
    const b = new InventoryStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add(h(`c${i}`))));
    expect((await a.list()).map((x) => x.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
  });

  it('announces a change made by another writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'icbd-inv-'));
    const events = new EventBus();
    const watched = new InventoryStore(dir, events);
    await watched.add(h('imgs', { role: 'imgs' }));
    watched.watch();
    const seen = new Promise<string[]>((resolve) => events.on('hosts.changed', ({ hosts }) => resolve(hosts.map((x) => x.name))));
    await new InventoryStore(dir).add(h('cache01'));
    expect(await seen).toEqual(['imgs', 'cache01']);
    watched.close();
  });
});
