import { describe, expect, it } from 'vitest';
import { buildOverview, type OverviewFacts } from '../../../../electron/core/overview/overview.ts';
import { filesystemUsageArgv, parseFilesystemUsage } from '../../../../electron/core/replication/commands.ts';
import type { Host } from '../../../../shared/inventory.ts';
import type { NodeRepo, Snapshot } from '../../../../shared/snapshots.ts';
import type { HostHealth } from '../../../../shared/ssh.ts';
import { scheduleView } from '../../../fixtures/schedules.ts';
import { pushRecord } from '../../../fixtures/transfer-records.ts';

// Captured on this machine: `btrfs filesystem usage -b` of a fresh 300 MiB filesystem (btrfs-progs 6.2).
const USAGE = `Overall:
    Device size:\t\t         314572800
    Device allocated:\t\t          92274688
    Device unallocated:\t\t         222298112
    Device missing:\t\t                 0
    Device slack:\t\t                 0
    Used:\t\t\t            294912
    Free (estimated):\t\t         230686720\t(min: 119537664)
    Free (statfs, df):\t\t         229638144
    Data ratio:\t\t\t              1.00
    Metadata ratio:\t\t              2.00
    Global reserve:\t\t           5767168\t(used: 0)
    Multiple profiles:\t\t                no

Data,single: Size:8388608, Used:0 (0.00%)
   /dev/loop5\t   8388608
`;

describe('btrfs filesystem usage', () => {
  it('reads size, used and the estimated free space (not statfs)', () => {
    expect(parseFilesystemUsage(USAGE)).toEqual({ sizeBytes: 314572800, usedBytes: 294912, freeBytes: 230686720 });
  });
  it('refuses text that is not its output', () => {
    expect(() => parseFilesystemUsage('ERROR: not a btrfs filesystem: /var\n')).toThrow(/Not the output of btrfs filesystem usage/);
  });
  it('takes the path as a positional argument', () => {
    expect(filesystemUsageArgv('/var/lib/icbd/.snap')).toEqual(['sh', '-c', expect.stringContaining('btrfs filesystem usage -b "$p"'), 'sh', '/var/lib/icbd/.snap']);
  });
});

const T0 = Date.UTC(2026, 11, 6, 6, 0);
const uuid = (n: number, node = 0) => `00000000-0000-4000-8000-${String(node * 1000 + n).padStart(12, '0')}`;
const snap = (n: number, over: Partial<Snapshot> = {}): Snapshot => ({
  image: 'win10',
  number: n,
  path: `/var/lib/icbd/.snap/win10/${n}`,
  uuid: uuid(n),
  parentUuid: null,
  receivedUuid: null,
  readOnly: true,
  createdAt: T0 - (10 - n) * 3_600_000,
  generation: n,
  referencedBytes: null,
  exclusiveBytes: null,
  ...over,
});
/** A cache's copy of imgs' snapshot n: its own uuid, imgs' as received_uuid. */
const copy = (n: number, node: number) => snap(n, { uuid: uuid(n, node), receivedUuid: uuid(n), createdAt: T0 });
const repo = (node: string, role: 'imgs' | 'cache', snapshots: Snapshot[]): NodeRepo => ({ node, role, root: '/var/lib/icbd/.snap', exists: true, images: [{ name: 'win10', snapshots }], problems: [] });
const host = (name: string, role: Host['role']): Host => ({ name, role, address: `10.0.0.${name.length}`, port: 22, user: 'root' }) as Host;
const up = (name: string): HostHealth => ({ host: name, state: 'up', latencyMs: 1.5, lastError: null, checkedAt: T0, since: T0 - 1000 });

function facts(over: Partial<OverviewFacts> = {}): OverviewFacts {
  return {
    now: T0,
    lastLook: null,
    hosts: [host('imgs', 'imgs'), host('cache01', 'cache'), host('cache02', 'cache'), host('rw', 'rw')],
    health: [up('imgs'), up('cache01'), up('cache02'), up('rw')],
    repos: [repo('imgs', 'imgs', [1, 2, 3, 4, 5].map((n) => snap(n))), repo('cache01', 'cache', [copy(3, 1), copy(5, 1)]), repo('cache02', 'cache', [copy(2, 2)])],
    disks: new Map([
      ['imgs', { sizeBytes: 1000, usedBytes: 400, freeBytes: 600 }],
      ['cache01', { sizeBytes: 1000, usedBytes: 950, freeBytes: 50 }],
      ['cache02', { problem: 'ERROR: not a btrfs filesystem' }],
    ]),
    settings: new Map(),
    transfers: [],
    schedules: [],
    ...over,
  };
}

describe('buildOverview', () => {
  it('lists every node with its health and disk use, and the reason a disk could not be read', () => {
    const o = buildOverview(facts());
    expect(o.source).toBe('imgs');
    expect(o.nodes.map((n) => [n.host, n.role, n.state, n.disk?.freeBytes ?? null, n.diskProblem])).toEqual([
      ['imgs', 'imgs', 'up', 600, null],
      ['cache01', 'cache', 'up', 50, null],
      ['cache02', 'cache', 'up', null, 'ERROR: not a btrfs filesystem'],
      ['rw', 'rw', 'up', null, null],
    ]);
  });

  it('measures each cache against imgs by identity: missing snapshots and the age of the newest it holds', () => {
    const lag = buildOverview(facts()).lag;
    expect(lag).toEqual([
      { image: 'win10', cache: 'cache01', state: 'current', missing: 0, sourceNewest: 5, newest: 5, newestAt: T0 - 5 * 3_600_000 },
      { image: 'win10', cache: 'cache02', state: 'behind', missing: 3, sourceNewest: 5, newest: 2, newestAt: T0 - 8 * 3_600_000 },
    ]);
  });

  it('a diverged copy is not held, an unread cache is unknown, a cache that does not carry the image is left out', () => {
    const diverged = snap(5, { uuid: uuid(5, 2), receivedUuid: uuid(99) });
    const o = buildOverview(
      facts({
        hosts: [host('imgs', 'imgs'), host('cache01', 'cache'), host('cache02', 'cache'), host('cache03', 'cache')],
        repos: [repo('imgs', 'imgs', [1, 2, 3, 4, 5].map((n) => snap(n))), repo('cache02', 'cache', [diverged]), repo('cache03', 'cache', [copy(5, 3)])],
        settings: new Map([['cache03', { images: ['linux'] }]]),
      }),
    );
    expect(o.lag.map((l) => [l.cache, l.state, l.missing, l.newest])).toEqual([
      ['cache01', 'unknown', 0, null],
      ['cache02', 'none', 5, null],
    ]);
  });

  it('splits running from queued transfers and leaves finished ones out', () => {
    const o = buildOverview(
      facts({ transfers: [pushRecord({ id: 'run-00001', state: 'running' }), pushRecord({ id: 'que-00001' }), pushRecord({ id: 'don-00001', state: 'done', endedAt: T0 })] }),
    );
    expect(o.running.map((t) => t.id)).toEqual(['run-00001']);
    expect(o.queued.map((t) => t.id)).toEqual(['que-00001']);
  });

  it('failures since the last look: hosts down or untrusted, a disk nearly full, failed transfers after the marker, each with what to do', () => {
    const failed = (id: string, endedAt: number) =>
      pushRecord({ id, state: 'failed', endedAt, targets: [{ node: 'cache02', state: 'failed', error: 'btrfs receive: No space left on device' }] });
    const o = buildOverview(
      facts({
        lastLook: T0 - 60_000,
        health: [
          up('imgs'),
          up('cache01'),
          { host: 'cache02', state: 'down', latencyMs: null, lastError: { code: 'UNAVAILABLE', message: 'connect ETIMEDOUT' }, checkedAt: T0, since: T0 - 30_000 },
          { host: 'rw', state: 'untrusted', latencyMs: null, lastError: { code: 'UNAUTHORIZED', message: 'SECURITY: the host key of rw has CHANGED' }, checkedAt: T0, since: T0 - 10_000 },
        ],
        transfers: [failed('old-00001', T0 - 120_000), failed('new-00001', T0 - 1000)],
      }),
    );
    expect(o.failures.map((f) => [f.kind, f.subject, f.message])).toEqual([
      ['disk', 'cache01', expect.stringContaining('50 B free of 1000 B')],
      ['transfer', 'win10@3 to cache02', 'btrfs receive: No space left on device'],
      ['host', 'rw', 'SECURITY: the host key of rw has CHANGED'],
      ['host', 'cache02', 'connect ETIMEDOUT'],
    ]);
    expect(o.failures.find((f) => f.kind === 'transfer')!.action).toContain('icbd push imgs:win10@3 --to cache02');
    expect(o.failures.find((f) => f.subject === 'cache02')!.action).toContain('icbd exec cache02 -- true');
    for (const f of o.failures) expect(f.action.length).toBeGreaterThan(20);
    // Never acknowledged: every failed transfer on record counts.
    expect(buildOverview(facts({ transfers: [failed('old-00001', T0 - 120_000)] })).failures.map((f) => f.kind)).toEqual(['disk', 'transfer']);
  });

  it('a scheduled run that failed since the last look is a failure, with the command that runs it again; an older one is not', () => {
    const nightly = (endedAt: number) =>
      scheduleView({
        createdAt: T0 - 86_400_000,
        lastRun: { startedAt: endedAt - 5000, endedAt, outcome: 'failed', message: 'cache02: No space left on device', reason: 'its time came', transfers: [], pid: 1, host: 'console' },
        nextRunAt: T0 + 3_600_000,
      });

    const o = buildOverview(facts({ lastLook: T0 - 60_000, disks: new Map(), schedules: [nightly(T0 - 1000)] }));
    expect(o.schedules.map((s) => s.name)).toEqual(['nightly']);
    expect(o.failures.map((f) => [f.kind, f.subject, f.message])).toEqual([['schedule', 'schedule nightly', 'cache02: No space left on device']]);
    expect(o.failures[0]!.action).toContain('icbd schedule run-now nightly');
    expect(buildOverview(facts({ lastLook: T0 - 60_000, disks: new Map(), schedules: [nightly(T0 - 120_000)] })).failures).toEqual([]);
  });
});
