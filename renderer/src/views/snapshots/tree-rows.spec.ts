import { describe, expect, it } from 'vitest';
import type { SnapshotTree } from '../../../../shared/replication.ts';
import { listItems, windowOf } from './tree-rows.ts';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const row = (number: number, states: ('present' | 'missing')[]) => ({
  number,
  uuid: uuid(number),
  createdAt: null,
  referencedBytes: null,
  exclusiveBytes: null,
  parent: null,
  cells: states.map((state, i) => ({ node: ['imgs', 'cache01'][i]!, state })),
});
const tree: SnapshotTree = {
  source: 'imgs',
  at: 0,
  nodes: [],
  images: [
    { name: 'a', nextParent: {}, rows: [row(2, ['present', 'missing']), row(1, ['present', 'present'])] },
    { name: 'b', nextParent: {}, rows: [row(1, ['present', 'present'])] },
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
    const [, first] = listItems(tree, { image: 'a', node: '' }, new Set(['a@2@cache01']));
    expect(first?.kind === 'snapshot' && first.row.cells[1]!.state).toBe('transferring');
  });
  it('renders only the visible window of 10 000 rows', () => {
    expect(windowOf(10_000, 28, 28 * 5000, 560)).toEqual({ start: 4992, end: 5028 });
    expect(windowOf(3, 28, 0, 560)).toEqual({ start: 0, end: 3 });
  });
});
