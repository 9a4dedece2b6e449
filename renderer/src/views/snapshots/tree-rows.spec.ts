import { describe, expect, it } from 'vitest';
import { cellState, columnsOf, rowsOf, type SnapshotTree } from '../../../../shared/replication.ts';
import { listItems, windowOf } from './tree-rows.ts';

const row = (number: number, cells: string) => ({ number, createdAt: null, referencedBytes: null, parent: null, cells });
const node = (name: string) => ({ name, role: 'cache' as const, root: '/s', exists: true, problems: [] });
const tree: SnapshotTree = {
  source: 'imgs',
  at: 0,
  nodes: [node('imgs'), node('cache01')],
  images: [
    { name: 'a', nextParent: {}, rows: columnsOf([row(2, 'pm'), row(1, 'pP')]) },
    { name: 'b', nextParent: {}, rows: columnsOf([row(1, 'pp')]) },
  ],
};

describe('the tree as a flat list', () => {
  it('an image line, then its snapshots', () => {
    expect(listItems(tree, { image: '', node: '' }, new Set()).map((i) => (i.kind === 'image' ? i.image : `${i.image}@${i.row.number}`))).toEqual(['a', 'a@2', 'a@1', 'b', 'b@1']);
  });
  it('filters by image, and by the node that lacks a snapshot', () => {
    expect(listItems(tree, { image: 'b', node: '' }, new Set())).toHaveLength(2);
    const lacking = listItems(tree, { image: '', node: 'cache01' }, new Set());
    expect(lacking.map((i) => (i.kind === 'image' ? i.image : i.row.number))).toEqual(['a', 2]);
  });
  it('marks the cells the live transfers are writing', () => {
    const [, first, second] = listItems(tree, { image: 'a', node: '' }, new Set(['a@2@cache01', 'a@9@imgs', 'a@1@gone']));
    expect(first?.kind === 'snapshot' && cellState(first.row, 1)).toBe('transferring');
    expect(first?.kind === 'snapshot' && cellState(first.row, 0)).toBe('present');
    expect(second?.kind === 'snapshot' && second.row).toBe(rowsOf(tree.images[0]!)[1]);
  });
  it('renders only the visible window of 10 000 rows', () => {
    expect(windowOf(10_000, 28, 28 * 5000, 560)).toEqual({ start: 4992, end: 5028 });
    expect(windowOf(3, 28, 0, 560)).toEqual({ start: 0, end: 3 });
  });
});
