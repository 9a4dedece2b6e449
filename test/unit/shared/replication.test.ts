import { describe, expect, it } from 'vitest';
import { wireTree, type RetentionLookup } from '../../../shared/replication.ts';
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
    const cell = (n: number) => tree.images[0]!.rows.find((r) => r.number === n)!.cells.find((c) => c.node === 'cache01')!;
    expect(cell(1)).toMatchObject({ state: 'present', prune: 'not kept by the policy (keep the newest 1)' });
    expect(cell(1).pinned).toBeUndefined();
    expect(cell(2)).toMatchObject({ state: 'present', pinned: 'the newest: what cache01 serves its clients' });
    expect(cell(3)).toEqual({ node: 'cache01', state: 'missing' });
    expect(tree.images[0]!.rows[0]!.cells[0]).not.toHaveProperty('prune');
  });
});
