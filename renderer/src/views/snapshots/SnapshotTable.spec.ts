import { render, screen, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { describe, expect, it, vi } from 'vitest';
import { columnsOf, type SnapshotTree } from '../../../../shared/replication.ts';
import SnapshotTable from './SnapshotTable.svelte';
import { listItems } from './tree-rows.ts';

// jsdom lays nothing out: the table's height watch has nothing to watch.
vi.stubGlobal(
  'ResizeObserver',
  class {
    observe() {}
    disconnect() {}
  },
);

const node = (name: string) => ({ name, role: 'cache' as const, root: '/s', exists: true, problems: [] });
const TREE: SnapshotTree = {
  source: 'imgs',
  at: 0,
  nodes: [node('imgs'), node('cache01'), node('cache02')],
  images: [
    {
      name: 'win10',
      nextParent: {},
      rows: columnsOf([
        { number: 3, createdAt: null, referencedBytes: null, parent: 2, sent: { bytes: 40 * 2 ** 20, kind: 'incremental', parent: 2 }, cells: 'ppd', notes: { cache01: { pinned: 'the newest: what cache01 serves its clients' }, cache02: { reason: 'it diverged after win10@1' } } },
        { number: 2, createdAt: null, referencedBytes: null, parent: 1, cells: 'pPm' },
        { number: 1, createdAt: null, referencedBytes: 5 * 2 ** 30, parent: null, sent: { bytes: 5 * 2 ** 30, kind: 'full', parent: null }, cells: 'pPp' },
      ]),
    },
  ],
};

function table() {
  render(SnapshotTable, { items: listItems(TREE, { image: '', node: '' }, new Set()), nodes: ['imgs', 'cache01', 'cache02'], source: 'imgs', selected: undefined, onselect: vi.fn() });
  return (name: string) => within(screen.getByRole('row', { name: new RegExp(`^${name}\\b`) })).getAllByRole('gridcell');
}

describe('SnapshotTable', () => {
  it("shows each copy's state with retention's mark, and says why in the title", () => {
    const row = table();
    const cells = row('win10@2');
    expect(cells.slice(0, 3).map((c) => c.textContent)).toEqual(['present', 'present', 'missing']);
    expect(cells[1]!.classList.contains('prune')).toBe(true);
    expect(cells[1]!.title).toBe('cache01: prune would delete it (select the snapshot for why)');
    const newest = row('win10@3');
    expect(newest[1]!.title).toBe('cache01: kept: the newest: what cache01 serves its clients');
    expect(newest[2]!.title).toBe('it diverged after win10@1');
  });

  it('sizes without quotas from the stream that sent it, said to be one; Parent is the snapshot it follows', () => {
    const row = table();
    const [, , , size3, , parent3] = row('win10@3');
    expect([size3!.textContent, size3!.classList.contains('sent'), parent3!.textContent]).toEqual(['+40.0 MiB', true, '2']);
    expect(size3!.title).toMatch(/^Last sent as an incremental stream from 2 of 40.0 MiB \(transfer history; quotas are off\)/);
    const [, , , size2, , parent2] = row('win10@2');
    expect([size2!.textContent, parent2!.textContent]).toEqual(['–', '1']);
    const [, , , size1, , parent1] = row('win10@1');
    expect([size1!.textContent, size1!.classList.contains('sent'), parent1!.textContent]).toEqual(['5.00 GiB', false, '—']);
  });
});
