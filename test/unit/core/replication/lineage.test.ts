import { describe, expect, it } from 'vitest';
import { lastSent, snapshotInfo, type InfoInput } from '../../../../electron/core/replication/lineage.ts';
import type { NodeRepo, Snapshot } from '../../../../shared/snapshots.ts';
import { pushRecord } from '../../../fixtures/transfer-records.ts';

const u = (n: number, node: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-${String(node).padStart(12, '0')}`;
const WORK = 'ffffffff-0000-4000-8000-000000000000';
const HOUR = 3_600_000;

/** win10@n on node k (0 = imgs, taken from the working copy); a replica's copy was received from imgs, incrementally when `onto` is given. */
function snap(n: number, k: number, onto?: number): Snapshot {
  return {
    image: 'win10',
    number: n,
    path: `/s/win10/${n}`,
    uuid: u(n, k),
    parentUuid: k === 0 ? WORK : onto ? u(onto, k) : null,
    receivedUuid: k === 0 ? null : u(n, 0),
    readOnly: true,
    createdAt: n * HOUR,
    generation: n,
    referencedBytes: null,
    exclusiveBytes: null,
  };
}
const repo = (node: string, role: NodeRepo['role'], snapshots: Snapshot[]): NodeRepo => ({ node, role, root: '/s', exists: true, images: [{ name: 'win10', snapshots }], problems: [] });

const full = pushRecord({ id: 'f0f0f0f0-0001', number: 2, kind: 'full', parentNumber: null, state: 'done', bytes: 5 * 2 ** 30, endedAt: Date.UTC(2026, 11, 6, 2, 0), targets: [{ node: 'cache01', state: 'done' }] });
const incremental = pushRecord({
  id: 'a1a1a1a1-0002',
  number: 3,
  parentNumber: 2,
  state: 'done',
  bytes: 40 * 2 ** 20,
  endedAt: Date.UTC(2026, 11, 6, 2, 10),
  origin: { schedule: 'nightly' },
  targets: [
    { node: 'cache01', state: 'done' },
    { node: 'cache02', state: 'failed', error: 'cache02: No space left on device' },
  ],
});

function info(over: Partial<InfoInput> = {}) {
  return snapshotInfo({
    repos: [repo('imgs', 'imgs', [snap(1, 0), snap(2, 0), snap(3, 0)]), repo('cache01', 'cache', [snap(2, 1), snap(3, 1, 2)]), repo('cache02', 'cache', [snap(2, 2)])],
    source: 'imgs',
    image: 'win10',
    number: 3,
    records: [full, incremental],
    active: [],
    retained: (node, _image, number) => (node === 'cache01' && number === 3 ? { keep: true, why: ['the newest: what cache01 serves its clients', 'among the newest 3'] } : undefined),
    policy: (node) => (node === 'imgs' ? 'keep all' : 'keep the newest 3'),
    ...over,
  });
}
const copy = (i: ReturnType<typeof info>, node: string) => i.copies.find((c) => c.node === node)!;

describe("a snapshot's copies and where they came from", () => {
  it('on imgs: the previous snapshot, not the working copy it was taken from', () => {
    expect(copy(info(), 'imgs')).toMatchObject({ state: 'present', parent: 2, lineage: 'taken on imgs after win10@2' });
    expect(copy(info({ number: 1 }), 'imgs')).toMatchObject({ parent: null, lineage: 'the first snapshot of win10 on imgs' });
  });

  it('on a cache: the transfer that brought it, incremental from its parent, as btrfs recorded it too', () => {
    const c = copy(info(), 'cache01');
    expect(c).toMatchObject({
      state: 'present',
      parent: 2,
      came: { transfer: 'a1a1a1a1-0002', from: 'imgs', kind: 'incremental', parent: 2, bytes: 40 * 2 ** 20, at: incremental.endedAt, schedule: 'nightly' },
      retention: { keep: true, policy: 'keep the newest 3', why: ['the newest: what cache01 serves its clients', 'among the newest 3'] },
    });
    expect(c.lineage).toBe('from imgs by transfer a1a1a1a1 (schedule nightly) on 2026-12-06 02:10 UTC: incremental stream from 2, 40.0 MiB');
    expect(copy(info({ number: 2 }), 'cache01').lineage).toBe('from imgs by transfer f0f0f0f0 on 2026-12-06 02:00 UTC: full stream, 5.00 GiB');
  });

  it('the newest push that brought it wins, in whatever order the history lists them (icbd transfers: newest first)', () => {
    const again = { ...incremental, id: 'c3c3c3c3-0004', origin: undefined, endedAt: Date.UTC(2026, 11, 7, 2, 10), bytes: 41 * 2 ** 20 };
    for (const records of [[again, incremental, full], [full, incremental, again]]) {
      expect(copy(info({ records }), 'cache01').came?.transfer).toBe('c3c3c3c3-0004');
      expect(lastSent(records)('win10', 3)?.bytes).toBe(41 * 2 ** 20);
    }
  });

  it('without a record: what btrfs says, and why the history does not', () => {
    expect(copy(info({ records: [] }), 'cache01').lineage).toMatch(/^received incrementally \(applied to its copy of 2\); no transfer in this console's history brought it/);
    expect(copy(info({ records: [], number: 2 }), 'cache02').lineage).toMatch(/^received whole \(a full stream\); no transfer/);
  });

  it('a record btrfs contradicts is shown with what btrfs says', () => {
    const wrong = { ...incremental, parentNumber: 1 };
    expect(copy(info({ records: [wrong] }), 'cache01').lineage).toMatch(/incremental stream from 1, 40.0 MiB; btrfs records it as applied to its copy of 2$/);
  });

  it('missing: with the failure of the last push there; in transfer: which transfer', () => {
    expect(copy(info(), 'cache02')).toMatchObject({ state: 'missing', lineage: 'not here: the last push of it here failed (transfer a1a1a1a1: cache02: No space left on device)' });
    expect(copy(info(), 'cache02')).not.toHaveProperty('snapshot');
    const running = pushRecord({ id: 'b2b2b2b2-0003', state: 'running', targets: [{ node: 'cache02', state: 'pending' }] });
    const moving = info({ records: [full, running], active: [{ image: 'win10', number: 3, targets: ['cache02'] }] });
    expect(copy(moving, 'cache02')).toMatchObject({ state: 'transferring', lineage: 'being received from imgs (transfer b2b2b2b2, incremental from 2)' });
  });

  it('a diverged copy says where it diverged', () => {
    const own = { ...snap(3, 2, 2), receivedUuid: null };
    const i = info({ repos: [repo('imgs', 'imgs', [snap(2, 0), snap(3, 0)]), repo('cache01', 'cache', []), repo('cache02', 'cache', [snap(2, 2), own])] });
    expect(copy(i, 'cache02')).toMatchObject({ state: 'diverged', parent: 2, lineage: expect.stringMatching(/it diverged after win10@2 \(cache02's 2\)/) });
  });

  it("the newest finished push sizes the tree's row when quotas are off", () => {
    const sent = lastSent([full, incremental, pushRecord({ number: 4, state: 'failed', targets: [{ node: 'cache01', state: 'failed' }] })]);
    expect(sent('win10', 3)).toEqual({ bytes: 40 * 2 ** 20, kind: 'incremental', parent: 2 });
    expect(sent('win10', 2)).toEqual({ bytes: 5 * 2 ** 30, kind: 'full', parent: null });
    expect(sent('win10', 4)).toBeUndefined();
  });
});
