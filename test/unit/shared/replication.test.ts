import { describe, expect, it } from 'vitest';
import { cellState, cellsOf, columnsOf, rowSize, rowsOf, wireTree, type RetentionLookup } from '../../../shared/replication.ts';
import type { NodeRepo, Snapshot } from '../../../shared/snapshots.ts';

const u = (n: number, node: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-${String(node).padStart(12, '0')}`;
const snap = (n: number, node: number): Snapshot => ({
  image: 'img',
  number: n,
  path: `/s/img/${n}`,
  uuid: u(n, node),
  parentUuid: null,
  receivedUuid: node ? u(n, 0) : null,
  readOnly: true,
  createdAt: 0,
  generation: n,
  referencedBytes: null,
  exclusiveBytes: null,
});
const repo = (node: string, role: NodeRepo['role'], ns: number[], k: number): NodeRepo => ({ node, role, root: '/s', exists: true, images: [{ name: 'img', snapshots: ns.map((n) => snap(n, k)) }], problems: [] });

describe('wireTree with retention', () => {
  it('marks the copies prune would delete and those kept beyond the policy; policy-only keeps travel as nothing', () => {
    const retained: RetentionLookup = (node, _image, number) =>
      node !== 'cache01' ? undefined : number === 1 ? { keep: false, why: ['not kept by the policy (keep the newest 1)'] } : number === 2 ? { keep: true, why: ['the newest: what cache01 serves its clients', 'among the newest 1'] } : undefined;
    const tree = wireTree([repo('imgs', 'imgs', [1, 2, 3], 0), repo('cache01', 'cache', [1, 2], 1)], 'imgs', [], 0, retained);
    const nodes = tree.nodes.map((n) => n.name);
    const cell = (n: number) => cellsOf(rowsOf(tree.images[0]!).find((r) => r.number === n)!, nodes)[1]!;
    expect(cell(1)).toEqual({ node: 'cache01', state: 'present', prune: true });
    expect(cell(2)).toEqual({ node: 'cache01', state: 'present', prune: false, pinned: 'the newest: what cache01 serves its clients' });
    expect(cell(3)).toEqual({ node: 'cache01', state: 'missing', prune: false });
    expect(tree.images[0]!.rows.cells).toEqual(['pm', 'pp', 'pP']);
    expect(tree.images[0]!.rows.notes).toEqual({ 1: { cache01: { pinned: 'the newest: what cache01 serves its clients' } } });
    expect(rowsOf(tree.images[0]!)[0]).not.toHaveProperty('notes');
  });

  it('stays small: 10 000 snapshots on 4 nodes are well under a megabyte, and come back as the same rows', () => {
    const many = Array.from({ length: 10_000 }, (_, k) => k + 1);
    const tree = wireTree(['imgs', 'cache01', 'cache02', 'cache03'].map((n, k) => repo(n, k ? 'cache' : 'imgs', many, k)), 'imgs', [], 0);
    expect(cellState(rowsOf(tree.images[0]!)[0]!, 3)).toBe('present');
    expect(JSON.stringify(tree).length).toBeLessThan(700_000);
    const rows = rowsOf(tree.images[0]!);
    expect(rows).toHaveLength(10_000);
    expect(rowsOf(tree.images[0]!)).toBe(rows);
    const sample = [{ number: 2, createdAt: 5, referencedBytes: null, parent: 1, cells: 'pD', sent: { bytes: 9, kind: 'incremental' as const, parent: 1 }, notes: { cache01: { reason: 'x' } } }, { number: 1, createdAt: null, referencedBytes: 7, parent: null, cells: 'pp' }];
    expect(rowsOf({ rows: JSON.parse(JSON.stringify(columnsOf(sample))) })).toEqual(sample);
  });

  it("the Size column: the qgroup's size, else the newest stream that sent it, said to be one", () => {
    const row = { number: 3, createdAt: null, referencedBytes: null, parent: 2, cells: 'pp' };
    expect(rowSize({ ...row, referencedBytes: 2 ** 30 }, 'imgs')).toMatchObject({ text: '1.00 GiB', sent: false });
    expect(rowSize(row, 'imgs')).toMatchObject({ text: '–', sent: false, title: expect.stringMatching(/never sent from imgs: select it and measure/) });
    expect(rowSize({ ...row, sent: { bytes: 3 * 2 ** 20, kind: 'incremental', parent: 2 } }, 'imgs')).toEqual({
      text: '+3.00 MiB',
      sent: true,
      title: 'Last sent as an incremental stream from 2 of 3.00 MiB (transfer history; quotas are off): select it and measure its disk use',
    });
  });
});
