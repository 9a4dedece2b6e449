import { describe, expect, it } from 'vitest';
import { describePolicy, type NodeRepo, type Snapshot } from '../../../../shared/snapshots.ts';
import { policyFor, prunable, retention, retireBlockers, type BusySnapshot, type RetentionInput } from '../../../../electron/core/replication/retention.ts';

const u = (n: number, node = 0) => `${String(n).padStart(8, '0')}-0000-4000-8000-${String(node).padStart(12, '0')}`;
const ROOT = '/var/lib/icbd/.snap';
const DAY = 86_400_000;
const NOW = 100 * DAY;

/** Snapshot n of img on node k (0 = imgs), created n days after the epoch; copies carry imgs' uuid as received_uuid. */
function snap(n: number, node = 0, more: Partial<Snapshot> = {}): Snapshot {
  return {
    image: 'img',
    number: n,
    path: `${ROOT}/img/${n}`,
    uuid: u(n, node),
    parentUuid: null,
    receivedUuid: node === 0 ? null : u(n, 0),
    readOnly: true,
    createdAt: n * DAY,
    generation: n,
    referencedBytes: null,
    exclusiveBytes: null,
    ...more,
  };
}
function repo(node: string, role: NodeRepo['role'], snapshots: Snapshot[]): NodeRepo {
  return { node, role, root: ROOT, exists: true, images: [{ name: 'img', snapshots }], problems: [] };
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);

const imgs = repo('imgs', 'imgs', range(1, 10).map((n) => snap(n)));
const cache = repo('cache01', 'cache', range(1, 8).map((n) => snap(n, 1)));

function run(over: Partial<RetentionInput> & { node: string }) {
  const [image] = retention({ repos: [imgs, cache], source: 'imgs', policy: () => ({ keep: 3 }), busy: [], now: NOW, ...over });
  return image!;
}
const kept = (r: ReturnType<typeof run>) => r.snapshots.filter((s) => s.keep).map((s) => s.number);
const why = (r: ReturnType<typeof run>, n: number) => r.snapshots.find((s) => s.number === n)!.why;

describe('retention', () => {
  it('a cache with 8 snapshots and keep 3 keeps 6..8; 8 is both served and the next parent', () => {
    const r = run({ node: 'cache01' });
    expect(kept(r)).toEqual([8, 7, 6]);
    expect(why(r, 8)).toEqual(['the newest: what cache01 serves its clients', 'the parent of the next incremental push from imgs', 'among the newest 3']);
    expect(why(r, 5)).toEqual(['not kept by the policy (keep the newest 3)']);
    expect(prunable([r])).toEqual(['img@5', 'img@4', 'img@3', 'img@2', 'img@1']);
  });

  it('on imgs the newest common snapshot with each replica stays, even outside the policy', () => {
    const old = repo('cache02', 'cache', [snap(2, 2)]);
    const [r] = retention({ repos: [imgs, cache, old], source: 'imgs', node: 'imgs', policy: () => ({ keep: 1 }), busy: [], now: NOW });
    expect(kept(r!)).toEqual([10, 8, 2]);
    expect(r!.snapshots.find((s) => s.number === 8)!.why).toEqual(['the parent of the next incremental push to cache01']);
    expect(r!.snapshots.find((s) => s.number === 2)!.why).toEqual(['the parent of the next incremental push to cache02']);
  });

  it('a common snapshot is matched by identity: a diverged copy with the same number pins nothing', () => {
    const diverged = repo('cache01', 'cache', [...range(1, 4).map((n) => snap(n, 1)), snap(5, 1, { receivedUuid: u(55, 9) })]);
    const r = run({ repos: [imgs, diverged], node: 'cache01', policy: () => ({ keep: 1 }) });
    expect(kept(r)).toEqual([5, 4]);
    expect(why(r, 4)).toEqual(['the parent of the next incremental push from imgs']);
  });

  it('keep-within keeps the young ones; with keep as well a snapshot stays when either keeps it', () => {
    expect(kept(run({ node: 'imgs', repos: [imgs], policy: () => ({ within: '3d' }) }))).toEqual([10]);
    const young = repo('imgs', 'imgs', range(1, 10).map((n) => snap(n, 0, { createdAt: NOW - (10 - n) * DAY - 1 })));
    expect(kept(run({ node: 'imgs', repos: [young], policy: () => ({ within: '3d' }) }))).toEqual([10, 9, 8]);
    expect(kept(run({ node: 'imgs', repos: [young], policy: () => ({ within: '2d', keep: 4 }) }))).toEqual([10, 9, 8, 7]);
    expect(kept(run({ node: 'imgs', repos: [young], policy: () => ({ within: '1w', keep: 2 }) }))).toEqual([10, 9, 8, 7, 6, 5, 4]);
  });

  it('an unknown creation time is never taken for old', () => {
    const r = run({ node: 'imgs', repos: [repo('imgs', 'imgs', [snap(1, 0, { createdAt: null }), snap(2)])], policy: () => ({ within: '1d' }) });
    expect(kept(r)).toEqual([2, 1]);
    expect(why(r, 1)).toEqual(['its creation time is unknown, so its age cannot be checked']);
  });

  it('no policy keeps everything', () => {
    expect(kept(run({ node: 'cache01', policy: () => ({}) }))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('a snapshot a transfer uses stays, with the transfer named', () => {
    const busy: BusySnapshot[] = [
      { node: 'cache01', image: 'img', number: 2, by: 'transfer 1a2b3c4d (push img@9)' },
      { node: 'imgs', image: 'img', number: 3, by: 'elsewhere' },
    ];
    const r = run({ node: 'cache01', busy });
    expect(kept(r)).toEqual([8, 7, 6, 2]);
    expect(why(r, 2)).toEqual(['in use by transfer 1a2b3c4d (push img@9)']);
  });

  it('a writable subvolume (an interrupted receive) is never pruned, and does not count as the newest', () => {
    const r = run({ node: 'cache01', repos: [imgs, repo('cache01', 'cache', [...range(1, 4).map((n) => snap(n, 1)), snap(5, 1, { readOnly: false, receivedUuid: null })])], policy: () => ({ keep: 1 }) });
    expect(kept(r)).toEqual([5, 4]);
    expect(why(r, 5)[0]).toMatch(/^writable/);
    expect(why(r, 4)[0]).toBe('the newest: what cache01 serves its clients');
  });

  it('a node that is not in the repos has nothing to prune', () => {
    expect(retention({ repos: [imgs], source: 'imgs', node: 'cache09', policy: () => ({ keep: 1 }), busy: [], now: NOW })).toEqual([]);
  });

  it('policies: per image first, then the node, then the role default', () => {
    expect(policyFor({}, 'cache', 'img')).toEqual({ keep: 3 });
    expect(policyFor({}, 'imgs', 'img')).toEqual({});
    expect(policyFor({ retention: { keep: 5 } }, 'cache', 'img')).toEqual({ keep: 5 });
    expect(policyFor({ retention: { keep: 5 }, imageRetention: { img: { within: '14d' } } }, 'cache', 'img')).toEqual({ within: '14d' });
    expect(describePolicy({ keep: 3, within: '14d' })).toBe('keep the newest 3 and those younger than 14d');
    expect(describePolicy({})).toBe('keep all');
  });
});

describe('retiring an image whole', () => {
  const base = { repos: [imgs, cache], source: 'imgs', image: 'img', busy: [] as BusySnapshot[] };
  it('on the source: refused while a replica holds copies', () => {
    expect(retireBlockers({ ...base, node: 'imgs', carried: false })).toEqual(['cache01 still carries img (8 snapshots): retire it there first.']);
    expect(retireBlockers({ ...base, repos: [imgs, repo('cache01', 'cache', [])], node: 'imgs', carried: false })).toEqual([]);
  });
  it("on a replica: refused while its image list brings it back, or a transfer uses it", () => {
    expect(retireBlockers({ ...base, node: 'cache01', carried: true })).toEqual([
      "cache01's image list carries img: the next sync would bring it back (take it out with icbd replication carry first).",
    ]);
    const busy = [
      { node: 'cache01', image: 'img', number: 8, by: 'transfer 1a2b3c4d (push img@9)' },
      { node: 'cache01', image: 'img', number: 9, by: 'transfer 1a2b3c4d (push img@9)' },
      { node: 'imgs', image: 'img', number: 9, by: 'transfer 1a2b3c4d (push img@9)' },
    ];
    expect(retireBlockers({ ...base, busy, node: 'cache01', carried: false })).toEqual(['img on cache01 is in use by transfer 1a2b3c4d (push img@9).']);
    expect(retireBlockers({ ...base, node: 'cache01', carried: false })).toEqual([]);
  });
});
