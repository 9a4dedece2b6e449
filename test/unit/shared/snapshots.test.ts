import { describe, expect, it } from 'vitest';
import {
  buildTree, carries, chooseParent, defaultRepoSettings, deletionBlockers, findImage, identity, imageName, newestCommon, nextSnapshotNumber,
  parseRepoListing, parseSubvolumeShow, receivedProblem, repoPath, repoSettings, sameSnapshot, snapshot, snapshotNumber, snapshotParents, snapshotPath, type NodeRepo, type Snapshot,
} from '../../../shared/snapshots.ts';

// Captured from btrfs-progs v6.2 on loop devices by replication/commands.ts listRepoArgv:
// A = the source (img1@1..3 and a stray "notes" dir, an image dir named "bad name"); B = a replica
// with img1@1 received from A, a local snapshot numbered 2 (diverged), a receive of 3 cut short.
// B has quotas enabled (Usage lines); A does not.
const LIST_A = `icbd:image bad name
icbd:image img1
icbd:snapshot 1
snap/img1/1
	Name: 			1
	UUID: 			c89c9649-0c57-bd4d-aed6-b1bdee5f3802
	Parent UUID: 		456e1838-9947-554c-8e8a-fbdae6a178f7
	Received UUID: 		-
	Creation time: 		2026-11-26 13:18:01 +0000
	Subvolume ID: 		263
	Generation: 		18
	Gen at creation: 	18
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Send transid: 		0
	Send time: 		2026-11-26 13:18:01 +0000
	Receive transid: 	0
	Receive time: 		-
	Snapshot(s):
icbd:snapshot 2
snap/img1/2
	Name: 			2
	UUID: 			c8f69b5d-b651-0244-adcd-d869ff918091
	Parent UUID: 		456e1838-9947-554c-8e8a-fbdae6a178f7
	Received UUID: 		-
	Creation time: 		2026-11-26 13:18:02 +0000
	Subvolume ID: 		264
	Generation: 		19
	Gen at creation: 	19
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Send transid: 		0
	Send time: 		2026-11-26 13:18:02 +0000
	Receive transid: 	0
	Receive time: 		-
	Snapshot(s):
icbd:snapshot 3
snap/img1/3
	Name: 			3
	UUID: 			c97adc8f-8663-dc4d-a16e-9b7433742f82
	Parent UUID: 		456e1838-9947-554c-8e8a-fbdae6a178f7
	Received UUID: 		-
	Creation time: 		2026-11-26 13:18:02 +0000
	Subvolume ID: 		265
	Generation: 		20
	Gen at creation: 	20
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Send transid: 		0
	Send time: 		2026-11-26 13:18:02 +0000
	Receive transid: 	0
	Receive time: 		-
	Snapshot(s):
icbd:snapshot notes
`;
const LIST_B = `icbd:image img1
icbd:snapshot 1
snap/img1/1
	Name: 			1
	UUID: 			e6d53524-4480-194d-8c4b-75ad54ecb1d4
	Parent UUID: 		-
	Received UUID: 		c89c9649-0c57-bd4d-aed6-b1bdee5f3802
	Creation time: 		2026-11-26 13:18:02 +0000
	Subvolume ID: 		261
	Generation: 		20
	Gen at creation: 	20
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Send transid: 		9
	Send time: 		2026-11-26 13:18:02 +0000
	Receive transid: 	20
	Receive time: 		2026-11-26 13:18:02 +0000
	Snapshot(s):
	Quota group:		0/261
	  Limit referenced:	-
	  Limit exclusive:	-
	  Usage referenced:	16384
	  Usage exclusive:	16384
icbd:snapshot 2
snap/img1/2
	Name: 			2
	UUID: 			8c3faa64-a913-d747-a305-e58a36291854
	Parent UUID: 		ea264cf8-7911-aa46-ad03-e73dafe2302a
	Received UUID: 		-
	Creation time: 		2026-11-26 13:17:04 +0000
	Subvolume ID: 		260
	Generation: 		17
	Gen at creation: 	17
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Send transid: 		0
	Send time: 		2026-11-26 13:17:04 +0000
	Receive transid: 	0
	Receive time: 		-
	Snapshot(s):
	Quota group:		0/260
	  Limit referenced:	-
	  Limit exclusive:	-
	  Usage referenced:	16384
	  Usage exclusive:	16384
icbd:snapshot 3
snap/img1/3
	Name: 			3
	UUID: 			c29aa43d-b01c-064f-877b-7109173b3ac4
	Parent UUID: 		-
	Received UUID: 		-
	Creation time: 		2026-11-26 13:18:02 +0000
	Subvolume ID: 		262
	Generation: 		22
	Gen at creation: 	22
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			-
	Send transid: 		0
	Send time: 		2026-11-26 13:18:02 +0000
	Receive transid: 	0
	Receive time: 		-
	Snapshot(s):
	Quota group:		0/262
	  Limit referenced:	-
	  Limit exclusive:	-
	  Usage referenced:	0
	  Usage exclusive:	0
`;

const SHOW_OLD = `img1/4
	Name: 			4
	UUID: 			0f5a3c1e-1111-4a4a-9b9b-123456789abc
	Parent UUID: 		-
	Received UUID: 		c89c9649-0c57-bd4d-aed6-b1bdee5f3802
	Creation time: 		2018-01-16 10:00:00
	Subvolume ID: 		300
	Generation: 		42
	Gen at creation: 	40
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
	Snapshot(s):
	Quota group:		0/300
	  Usage referenced:	1.50GiB
	  Usage exclusive:	16.00KiB
`;

const A = parseRepoListing('imgs', 'imgs', '/tmp/rx/A/snap', LIST_A);
const B = parseRepoListing('cache01', 'cache', '/tmp/rx/B/snap', LIST_B);
const snaps = (r: NodeRepo) => findImage(r, 'img1')!.snapshots;
const at = (r: NodeRepo, n: number) => snaps(r).find((s) => s.number === n)!;
/** The working subvolume imgs' snapshots were taken from: their btrfs parent_uuid. */
const WORK = '456e1838-9947-554c-8e8a-fbdae6a178f7';

describe('names', () => {
  it.each(['img1', 'win10.v2', 'Ubuntu_22-04', '7'])('accepts image name %s', (n) => expect(imageName.safeParse(n).success).toBe(true));
  it.each([
    ['a b', 'a space'],
    ["it's", '"\'"'],
    ['a"b', '"""'],
    ['a;reboot', '";"'],
    ['$(id)', '"$"'],
    ['`id`', '"`"'],
    ['..', '".."'],
    ['a..b', '".."'],
    ['../etc', '".."'],
    ['a/b', '"/"'],
    ['imagém', '"é"'],
    ['-rf', 'starts with a letter'],
    ['.hidden', 'starts with a letter'],
    ['', 'required'],
    ['x'.repeat(65), 'at most 64'],
  ])('rejects %j with a message naming %s', (n, why) => {
    const r = imageName.safeParse(n);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain(why);
  });
  it('snapshot numbers are positive whole numbers', () => {
    expect(snapshotNumber.parse('12')).toBe(12);
    for (const bad of ['0', '-1', '1.5', 'x', '1e12']) expect(snapshotNumber.safeParse(bad).success).toBe(false);
  });
  it('repository paths are absolute with safe segments', () => {
    expect(repoPath.safeParse('/var/lib/icbd/.snap').success).toBe(true);
    expect(repoPath.safeParse('/var/lib/icbd/snap').success).toBe(true);
    for (const bad of ['var/lib', '/a//b', '/a/../b', '/a b', '/a;b', '/a/']) expect(repoPath.safeParse(bad).success).toBe(false);
  });
});

describe('parsing btrfs-progs output', () => {
  it('reads every fact of a source snapshot (no quotas: sizes null)', () => {
    expect(at(A, 1)).toEqual({
      image: 'img1',
      number: 1,
      path: '/tmp/rx/A/snap/img1/1',
      uuid: 'c89c9649-0c57-bd4d-aed6-b1bdee5f3802',
      parentUuid: '456e1838-9947-554c-8e8a-fbdae6a178f7',
      receivedUuid: null,
      readOnly: true,
      createdAt: Date.parse('2026-11-26T13:18:01Z'),
      generation: 18,
      referencedBytes: null,
      exclusiveBytes: null,
    });
    expect(snapshot.safeParse(at(A, 1)).success).toBe(true);
  });
  it('reads received_uuid, quota sizes in bytes and the writable flag of a cut-short receive', () => {
    expect(at(B, 1)).toMatchObject({ receivedUuid: 'c89c9649-0c57-bd4d-aed6-b1bdee5f3802', parentUuid: null, readOnly: true, referencedBytes: 16384 });
    expect(at(B, 3)).toMatchObject({ readOnly: false, receivedUuid: null });
  });
  it('reports what it skipped: bad image names and non-numbered entries', () => {
    expect(A.images.map((i) => i.name)).toEqual(['img1']);
    expect(A.problems.join('\n')).toMatch(/bad name.*cannot contain a space/);
    expect(A.problems.join('\n')).toMatch(/img1\/notes is not a snapshot number/);
    expect(snaps(A).map((s) => s.number)).toEqual([1, 2, 3]);
  });
  it('reads older btrfs-progs: human units and a time without zone', () => {
    const f = parseSubvolumeShow(SHOW_OLD);
    expect(f).toMatchObject({ referencedBytes: Math.round(1.5 * 2 ** 30), exclusiveBytes: 16384, createdAt: Date.parse('2018-01-16T10:00:00Z'), generation: 42 });
  });
  it('refuses text that is not a subvolume', () => {
    expect(() => parseSubvolumeShow('ERROR: Not a Btrfs subvolume: Invalid argument')).toThrow(/Not the output/);
  });
  it('marks a missing repository root', () => {
    expect(parseRepoListing('c', 'cache', '/x', 'icbd:no-root\n')).toMatchObject({ exists: false, images: [] });
  });
  it('a snapshot btrfs could not show is a problem, not a crash', () => {
    const r = parseRepoListing('c', 'cache', '/x', 'icbd:image i\nicbd:snapshot 4\nicbd:failed 4 1\n');
    expect(r.images[0]?.snapshots).toEqual([]);
    expect(r.problems[0]).toMatch(/could not show \/x\/i\/4/);
  });
});

describe('identity', () => {
  it('a received copy is the same as its source; a same-numbered local snapshot is not', () => {
    expect(sameSnapshot(at(A, 1), at(B, 1))).toBe(true);
    expect(sameSnapshot(at(A, 2), at(B, 2))).toBe(false);
    expect(identity(at(B, 1))).toBe(at(A, 1).uuid);
  });
  it('two caches holding copies of one snapshot carry the same received_uuid', () => {
    const c2 = { ...at(B, 1), uuid: '11111111-2222-3333-4444-555555555555' };
    expect(sameSnapshot(c2, at(B, 1))).toBe(true);
  });
  it('verifies a finished receive', () => {
    expect(receivedProblem(at(B, 1), at(A, 1))).toBeUndefined();
    expect(receivedProblem(at(B, 3), at(A, 3))).toMatch(/not read-only/);
    expect(receivedProblem({ ...at(B, 1), receivedUuid: null }, at(A, 1))).toMatch(/no received_uuid/);
    expect(receivedProblem(at(B, 1), at(A, 2))).toMatch(/is not the sent snapshot/);
  });
});

describe('parent choice', () => {
  it('newest common older snapshot by identity; the diverged 2 is never used', () => {
    expect(chooseParent(snaps(A), snaps(B), at(A, 3))?.number).toBe(1);
  });
  it('full send when nothing is common', () => {
    expect(chooseParent(snaps(A), [at(B, 2)], at(A, 3))).toBeNull();
    expect(chooseParent(snaps(A), [], at(A, 1))).toBeNull();
  });
  it('a writable (incomplete) copy on the receiver is not a parent', () => {
    const rw = { ...at(B, 1), readOnly: false };
    expect(chooseParent(snaps(A), [rw], at(A, 3))).toBeNull();
  });
  it('falls back to the nearest newer common snapshot when no older one exists', () => {
    const copyOf3 = { ...at(A, 3), uuid: '99999999-2222-3333-4444-555555555555', receivedUuid: at(A, 3).uuid };
    expect(chooseParent(snaps(A), [copyOf3], at(A, 1))?.number).toBe(3);
  });
  it('newestCommon ignores numbering and diverged copies', () => {
    expect(newestCommon(snaps(A), snaps(B))?.number).toBe(1);
  });
});

describe('deletion guard', () => {
  it('refuses the newest snapshot a replica shares with the source, on either side', () => {
    expect(deletionBlockers([A, B], 'imgs', 'imgs', 'img1', 1)[0]).toMatch(/newest snapshot imgs shares with cache01/);
    expect(deletionBlockers([A, B], 'imgs', 'cache01', 'img1', 1)).toHaveLength(1);
  });
  it('allows snapshots no replica needs as parent', () => {
    expect(deletionBlockers([A, B], 'imgs', 'imgs', 'img1', 2)).toEqual([]);
    expect(deletionBlockers([A, B], 'imgs', 'cache01', 'img1', 2)).toEqual([]);
    expect(deletionBlockers([A, B], 'imgs', 'cache01', 'img1', 3)).toEqual([]);
  });
  it('an older common snapshot may go once a newer one is shared', () => {
    const B2 = structuredClone(B);
    findImage(B2, 'img1')!.snapshots.push({ ...at(A, 3), path: '/x/img1/3b', number: 4, uuid: '77777777-2222-3333-4444-555555555555', receivedUuid: at(A, 3).uuid });
    expect(deletionBlockers([A, B2], 'imgs', 'imgs', 'img1', 1)).toEqual([]);
    expect(deletionBlockers([A, B2], 'imgs', 'imgs', 'img1', 3)).toHaveLength(1);
  });
});

describe('tree', () => {
  const [img] = buildTree([B, A], 'imgs', [{ image: 'img1', number: 3, targets: ['cache02'] }]);
  const C2 = parseRepoListing('cache02', 'cache', '/s', '');
  it('rows newest first, the source in the first column', () => {
    expect(img?.rows.map((r) => r.number)).toEqual([3, 2, 1]);
    expect(img?.rows[0]?.cells.map((c) => c.node)).toEqual(['imgs', 'cache01']);
  });
  it("present, diverged (with the reason) and writable", () => {
    const cell = (n: number, node: string) => img!.rows.find((r) => r.number === n)!.cells.find((c) => c.node === node)!;
    expect(cell(1, 'cache01').state).toBe('present');
    expect(cell(2, 'cache01')).toMatchObject({ state: 'diverged', reason: expect.stringMatching(/another snapshot/) });
    expect(cell(3, 'cache01')).toMatchObject({ state: 'diverged', reason: expect.stringMatching(/writable: an incomplete receive/) });
    expect(img?.nextParent).toEqual({ cache01: 1 });
  });
  it('missing and transferring', () => {
    const [t] = buildTree([A, C2], 'imgs', [{ image: 'img1', number: 3, targets: ['cache02'] }]);
    expect(t?.rows[0]?.cells[1]?.state).toBe('transferring');
    expect(t?.rows[1]?.cells[1]?.state).toBe('missing');
    expect(t?.nextParent).toEqual({ cache02: null });
  });
  it("a row's parent is the snapshot it follows, not the working copy every snapshot of imgs was taken from", () => {
    expect(img?.rows.map((r) => [r.number, r.parent])).toEqual([
      [3, 2],
      [2, 1],
      [1, null],
    ]);
  });
  it('says where a diverged copy diverged: the last snapshot of its own line the source has', () => {
    const src = [1, 2, 3].map((n) => ({ ...at(A, 1), number: n, path: `/s/img1/${n}`, uuid: `0000000${n}-0000-4000-8000-000000000000`, parentUuid: WORK }));
    const copy = (n: number, received: string | null, parent: string | null) => ({ ...src[n - 1]!, uuid: `0000000${n}-0000-4000-8000-000000000001`, receivedUuid: received, parentUuid: parent });
    // cache01: 1 received, then 2 and 3 made there from its own 1 (not received): its line left imgs' after 1.
    const line = [copy(1, src[0]!.uuid, null), copy(2, null, copy(1, null, null).uuid), copy(3, null, copy(2, null, null).uuid)];
    const repoOf = (node: string, role: NodeRepo['role'], snapshots: Snapshot[]): NodeRepo => ({ node, role, root: '/s', exists: true, images: [{ name: 'img1', snapshots }], problems: [] });
    const [t] = buildTree([repoOf('imgs', 'imgs', src), repoOf('cache01', 'cache', line)], 'imgs');
    const cell = (n: number) => t!.rows.find((r) => r.number === n)!.cells[1]!;
    expect(cell(1).state).toBe('present');
    expect(cell(3).reason).toMatch(/it diverged after img1@1 \(cache01's 1\), the last snapshot of its line that imgs has; it is never used as a parent/);
    // A copy of its own with no parent shares nothing with imgs' line.
    const [alone] = buildTree([repoOf('imgs', 'imgs', src), repoOf('cache01', 'cache', [copy(1, null, null)])], 'imgs');
    expect(alone!.rows.find((r) => r.number === 1)!.cells[1]!.reason).toMatch(/it shares no snapshot with imgs;/);
  });
  it('snapshotParents: the previous snapshot on the source, the receive parent on a replica, none for a full receive', () => {
    const s = (n: number, uuid: string, parentUuid: string | null, readOnly = true): Snapshot => ({ ...at(A, 1), number: n, uuid, parentUuid, readOnly, receivedUuid: null });
    const u = (n: number) => `0000000${n}-0000-4000-8000-00000000000a`;
    const onSource = snapshotParents([s(1, u(1), WORK), s(3, u(3), WORK), s(2, u(2), WORK, false), s(5, u(5), u(1))], true);
    expect([...onSource].map(([n, p]) => [n, p?.number ?? null])).toEqual([
      [1, null],
      [2, 1],
      [3, 1],
      [5, 1],
    ]);
    const onReplica = snapshotParents([s(1, u(1), null), s(2, u(2), u(1)), s(4, u(4), 'ffffffff-0000-4000-8000-000000000000')], false);
    expect([...onReplica].map(([n, p]) => [n, p?.number ?? null])).toEqual([
      [1, null],
      [2, 1],
      [4, null],
    ]);
  });
});

describe('settings and numbering', () => {
  it('defaults come from the role layout', () => {
    expect(defaultRepoSettings('cache')).toEqual({ root: '/var/lib/icbd/.snap', workRoot: '/var/lib/icbd/shared-vms', images: 'all', maxTransfers: 2 });
    expect(repoSettings.safeParse(defaultRepoSettings('imgs')).success).toBe(true);
  });
  it('the next number follows the highest', () => {
    expect(nextSnapshotNumber(findImage(A, 'img1'))).toBe(4);
    expect(nextSnapshotNumber(undefined)).toBe(1);
    expect(snapshotPath('/r', 'i', 2)).toBe('/r/i/2');
    expect(carries({ images: ['a'] }, 'b')).toBe(false);
    expect(carries({ images: 'all' }, 'b')).toBe(true);
  });
});
