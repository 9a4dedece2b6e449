/**
 * One host, one thing at a time: an install (apply, reboot) and trust — the platform's SSH table or
 * replication's node keys — never change the same node at once, whichever door started them. The
 * rule is pure (busyWith); the records are real files in a temporary data directory; the service
 * is driven with an SSH pool that never answers, so what is refused is refused before any host is
 * reached, and a trust job can be held mid-way.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstallStore, busyWith, isLive, type Hold, type Liveness, type Saved } from '../../../../electron/core/installer/saved-state.ts';
import { InstallService } from '../../../../electron/core/installer/service.ts';
import type { JobContext } from '../../../../electron/core/jobs/jobs.ts';
import type { SshPool } from '../../../../electron/core/ssh/pool.ts';
import type { Host } from '../../../../shared/inventory.ts';
import type { InstallRequest } from '../../../../shared/install.ts';
import { AppError } from '../../../../shared/errors.ts';

const ME = 1000;
const OTHER = 2000;
const DEAD = 3000;
const l: Liveness = { pid: ME, ours: (id) => id === 'mine', alive: (pid) => pid !== DEAD };
const AT = Date.UTC(2024, 0, 31, 14, 25, 30);

const PLATFORM = { imgs: '10.0.2.251', home: '10.0.2.12', data: '10.0.2.11', clients: '10.0.2.0/24' };
const saved = (run?: Partial<NonNullable<Saved['run']>>): Saved => ({
  host: 'cache01',
  settings: { role: 'cache', platform: PLATFORM, nfs: false, cache: { number: 1, clientSubnet: '10.1.1.0/24' } },
  ...(run && { run: { kind: 'apply', jobId: 'j', state: 'running', startedAt: AT, pid: OTHER, ...run } }),
});
const hold = (h: Partial<Hold> = {}): Hold => ({ kind: 'trust', jobId: 'j', startedAt: AT, pid: OTHER, ...h });

describe('whether a host is busy (pure)', () => {
  it('a record is live while its process runs it; one of this pid only while its id is ours (a pid reused after a crash)', () => {
    expect(isLive({ jobId: 'x', pid: OTHER }, l)).toBe(true);
    expect(isLive({ jobId: 'x', pid: DEAD }, l)).toBe(false);
    expect(isLive({ jobId: 'mine', pid: ME }, l)).toBe(true);
    expect(isLive({ jobId: 'x', pid: ME }, l)).toBe(false);
  });

  it('an install running, or a trust or keys hold, makes it busy, with what to do', () => {
    expect(busyWith(saved({}), undefined, l)).toMatch(/^an apply is already running \(since .+\); wait for it or cancel it$/);
    expect(busyWith(saved({ kind: 'reboot' }), undefined, l)).toMatch(/^a reboot is already running/);
    expect(busyWith(saved(), hold(), l)).toMatch(/^SSH trust between the nodes is being set up on it \(since .+\); wait for that job or cancel it$/);
    expect(busyWith(undefined, hold({ kind: 'keys' }), l)).toMatch(/^replication's node keys are being set up on it/);
  });

  it('a finished run, a dead process\'s run or hold, or nothing at all does not', () => {
    expect(busyWith(undefined, undefined, l)).toBeUndefined();
    expect(busyWith(saved(), undefined, l)).toBeUndefined();
    for (const state of ['done', 'failed', 'cancelled', 'interrupted'] as const) expect(busyWith(saved({ state }), undefined, l)).toBeUndefined();
    expect(busyWith(saved({ pid: DEAD }), hold({ pid: DEAD }), l)).toBeUndefined();
    expect(busyWith(saved({ pid: ME }), hold({ pid: ME }), l)).toBeUndefined();
  });
});

let home: string;
beforeEach(() => void (home = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-busy-'))));
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('the records on disk', () => {
  it('a hold is a file of its own: not a remembered host, seen by updates of the host under the same lock, removed when let go', async () => {
    const store = new InstallStore(home);
    await store.setHold('rw', () => hold());
    expect(await store.hold('rw')).toEqual(hold());
    expect(await store.list()).toEqual([]);
    let seen: Hold | undefined;
    await store.update('rw', (_, h) => ((seen = h), { ...saved(), host: 'rw' }));
    expect(seen).toEqual(hold());
    await expect(store.setHold('rw', () => { throw new AppError('CONFLICT', 'no'); })).rejects.toThrow('no');
    expect(await store.hold('rw')).toEqual(hold());
    await store.setHold('rw', () => undefined);
    expect(await store.hold('rw')).toBeUndefined();
    expect((await store.list()).map((s) => s.host)).toEqual(['rw']);
  });
});

describe('the install service keeps installs and trust apart', () => {
  const hosts: Host[] = [
    { name: 'imgs', address: '192.0.2.10', port: 22, user: 'root', role: 'imgs' },
    { name: 'cache01', address: '10.0.2.101', port: 22, user: 'root', role: 'cache', jump: 'imgs' },
  ];
  const request: InstallRequest = { host: 'cache01', role: 'cache', platform: PLATFORM, nfs: false, cache: { number: 1, clientSubnet: '10.1.1.0/24' } };
  const other = process.ppid;
  const dead = spawnSync('true').pid!;

  /** The pool is asked for only once a run or trust gets past its guard; it answers when `open` is called. */
  function service() {
    const store = new InstallStore(home);
    let asked = 0;
    let open!: (err: Error) => void;
    const gate = new Promise<never>((_, reject) => (open = reject));
    const s = new InstallService({
      pool: () => (asked++, gate as Promise<SshPool>),
      hosts: async () => hosts,
      audit: async () => undefined,
      store,
      replicationAddress: async () => undefined,
      repositoryRoot: async () => '/var/lib/icbd/.snap',
    });
    return { s, store, asked: () => asked, open: () => open(new Error('no SSH in this test')) };
  }
  const ctx = (id: string): JobContext => ({ id, signal: new AbortController().signal, progress: () => undefined, log: () => undefined });
  const conflict = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFLICT');
    return (err as AppError).message;
  };

  it('trust is refused while an install runs on a node it changes (another door\'s, alive), before any host is reached', async () => {
    const { s, store, asked } = service();
    for (const h of hosts) await store.update(h.name, () => ({ ...saved(), host: h.name }));
    await store.update('cache01', () => saved({ pid: other }));
    const refused = await conflict(s.ensureTrustIdle());
    expect(refused).toMatch(/^SSH trust between the nodes cannot start while a node it changes is busy:\ncache01: an apply is already running .*wait for it or cancel it\nThen try again\.$/);
    expect(await conflict(s.trust(ctx('t1')))).toBe(refused);
    expect(asked()).toBe(0);
    expect(await store.hold('imgs')).toBeUndefined();

    // its process died: the run was interrupted and holds nothing
    await store.update('cache01', () => saved({ pid: dead }));
    await expect(s.ensureTrustIdle()).resolves.toBeUndefined();
  });

  it('an install is refused while a trust job holds the node; the holds go when the job ends, however it ends', async () => {
    const { s, store, asked, open } = service();
    for (const h of hosts) await store.update(h.name, () => ({ ...saved(), host: h.name }));
    const job = s.trust(ctx('t2')).catch((e: unknown) => e);
    while (asked() === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await store.hold('cache01')).toMatchObject({ kind: 'trust', jobId: 't2', pid: process.pid });

    expect(await conflict(s.ensureIdle('cache01'))).toMatch(/^cache01: SSH trust between the nodes is being set up on it \(since .+\); wait for that job or cancel it\.$/);
    // past the request's check (another door got there first): the run itself refuses, leaving the host's record alone
    expect(await conflict(s.apply({ ...request, confirmDisk: '/dev/vdb' }, ctx('a1')))).toMatch(/^cache01: SSH trust/);
    expect((await store.read('cache01'))?.run).toBeUndefined();
    expect(await conflict(s.trust(ctx('t3')))).toMatch(/cannot start while nodes it changes are busy:\ncache01: SSH trust.*\nimgs: SSH trust/);
    expect(await conflict(s.trustPair('imgs', ['cache01']))).toMatch(/^Setting up node keys cannot start/);

    open();
    expect(await job).toMatchObject({ message: 'no SSH in this test' });
    expect(await store.hold('cache01')).toBeUndefined();
    expect(await store.hold('imgs')).toBeUndefined();
    await expect(s.ensureIdle('cache01')).resolves.toBeUndefined();
  });

  it('a hold left by an earlier process with this pid, or by a dead one, holds nothing', async () => {
    const { s, store } = service();
    await store.setHold('cache01', () => hold({ pid: process.pid, jobId: 'gone' }));
    await expect(s.ensureIdle('cache01')).resolves.toBeUndefined();
    await store.setHold('cache01', () => hold({ pid: dead }));
    await expect(s.ensureIdle('cache01')).resolves.toBeUndefined();
    await store.setHold('cache01', () => hold({ pid: other }));
    expect(await conflict(s.ensureIdle('cache01'))).toMatch(/^cache01: SSH trust/);
  });
});
