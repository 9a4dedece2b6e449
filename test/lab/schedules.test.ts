/**
 * Issue 14, items 1, 2 and 5 against the demo lab: schedules run by themselves, in whichever door
 * is open, once even with two open on the same data directory (a headless `icbd daemon` in its
 * own process and this test's core as the second door); the lease passes to the other door only
 * when its holder dies; a "new snapshot" schedule pushes within its delay; a failed scheduled run
 * reaches the operator (an event in the other door, `icbd health`, the notify command, the audit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduleView } from '../../shared/schedules.ts';
import type { PushRecord } from '../../shared/transfers.ts';
import { SchedulerLease } from '../../electron/core/schedules/lease.ts';
import { ScheduleStore } from '../../electron/core/schedules/store.ts';
import { replicationLab } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('sched', (core, dir) => replicationLab(core, dir, { caches: 1 }), { timeout: 900_000 });
const { icbd, sh } = lab;
const WORK = '/var/lib/icbd/shared-vms';

let daemon: ChildProcess | undefined;
let daemonLog = '';
afterAll(() => {
  if (daemon?.exitCode === null) daemon.kill('SIGKILL');
});

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.\ndaemon log:\n${daemonLog}`);
    await sleep(1000);
  }
}

const schedule = async (name: string): Promise<ScheduleView> => (await lab.core.call('schedules.list', {})).schedules.find((s) => s.name === name)!;
const byOrigin = async (name: string) => (await lab.core.call('transfers.list', {})).filter((t): t is PushRecord => t.operation === 'push' && t.origin?.schedule === name);

async function snapshotOn(node: string, image: string, n: number) {
  const [repo] = await lab.core.call('replication.repos', { nodes: [node] });
  return repo!.images.find((i) => i.name === image)?.snapshots.find((s) => s.number === n);
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('schedules on the lab', () => {
  it('a one-minute schedule syncs by itself, once with two doors open; the other door takes over only when its holder dies', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'win10' });
    await sh('imgs', 'head -c 8M /dev/urandom > "$1/disk.img" && sync', `${WORK}/win10`);
    expect((await icbd('snapshot', 'create', 'win10')).code).toBe(0);

    // Door 1: the headless daemon, in a process of its own. Door 2: this core, as a window's would.
    daemon = spawn('node', ['electron/cli/icbd.mjs', '--home', lab.home, 'daemon'], { env: { ...process.env, ICBD_LAB_DIR: lab.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    const lease = new SchedulerLease(lab.home, 'test');
    await until('the daemon to hold the lease', async () => ((await lease.holder())?.pid === daemon!.pid ? true : undefined), 60_000);
    lab.core.schedules.start('window');

    const added = await icbd('schedule', 'add', 'every-minute', '--every', '1');
    expect(added.code, added.stderr).toBe(0);
    const listed = await icbd('schedule', 'list');
    expect(listed.stdout).toMatch(/^every-minute +every 1 min +every carried image → every cache +direct, auto +never +\d{4}-\d\d-\d\d \d\d:\d\d$/m);
    expect(listed.stdout).toContain(`Run by: pid ${daemon.pid} on`);

    const first = await until('the first scheduled run to end', async () => {
      const s = await schedule('every-minute');
      return s.lastRun && s.lastRun.outcome !== 'running' ? s : undefined;
    }, 150_000);
    expect(first.lastRun).toMatchObject({ outcome: 'ok', reason: 'its time came', pid: daemon.pid });
    expect(first.lastRun!.startedAt - first.createdAt).toBeGreaterThanOrEqual(60_000);
    const sent = await byOrigin('every-minute');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ state: 'done', image: 'win10', number: 1, kind: 'full', targets: [{ node: 'cache01', state: 'done' }] });
    expect(first.lastRun!.transfers).toEqual([sent[0]!.id]);
    expect(await lab.core.call('transfers.log', { id: sent[0]!.id })).toEqual(expect.arrayContaining([expect.stringContaining('started by schedule every-minute')]));
    expect((await icbd('transfers')).stdout).toMatch(new RegExp(`^${sent[0]!.id.slice(0, 8)} +done +win10@1 .* schedule every-minute$`, 'm'));
    expect((await snapshotOn('cache01', 'win10', 1))?.receivedUuid).toBe((await snapshotOn('imgs', 'win10', 1))!.uuid);
    // Both doors looked at it every 10 s for a minute and more: one run, one transfer, one audit entry.
    await sleep(15_000);
    expect(await byOrigin('every-minute')).toHaveLength(1);
    const runs = (await lab.core.call('audit.list', {})).filter((e) => e.action === 'schedule.run');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ host: 'imgs', result: 'ok', door: 'cli' });
    expect(daemonLog).toMatch(/schedule\.run imgs: ok/);

    // The daemon dies without a word: this door takes the lease over, and the next run is its own.
    await sh('imgs', 'head -c 1M /dev/urandom | dd of="$1/disk.img" bs=64K seek=10 conv=notrunc status=none && sync', `${WORK}/win10`);
    expect((await icbd('snapshot', 'create', 'win10')).code).toBe(0);
    daemon.kill('SIGKILL');
    await until('this door to take the lease', async () => ((await lease.holder())?.pid === process.pid ? true : undefined), 30_000);
    const second = await until('the run after the takeover', async () => {
      const s = await schedule('every-minute');
      return s.lastRun && s.lastRun.pid === process.pid && s.lastRun.outcome !== 'running' ? s : undefined;
    }, 150_000);
    expect(second.lastRun).toMatchObject({ outcome: 'ok' });
    expect(second.runner).toMatch(new RegExp(`^pid ${process.pid} on .* \\(window\\)$`));
    const after = await byOrigin('every-minute');
    expect(after).toHaveLength(2);
    expect(after[0]).toMatchObject({ state: 'done', number: 2, kind: 'incremental', parentNumber: 1 });
    expect((await icbd('schedule', 'rm', 'every-minute')).code).toBe(0);
  });

  it('a "new snapshot" schedule pushes a new snapshot within its delay, and only the images it names', async () => {
    const added = await icbd('schedule', 'add', 'win10-fresh', '--on-snapshot', '--within', '1m', '--images', 'win10', '--caches', 'cache01');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('win10 → cache01, on a new snapshot, within 1 min.');
    // Its first look only notes what imgs has: what was there before the schedule is not "new".
    const store = new ScheduleStore(lab.home);
    await until('the first look at imgs', async () => (await store.readState())['win10-fresh']?.seen, 60_000);
    expect(await byOrigin('win10-fresh')).toEqual([]);

    await lab.core.call('replication.addImage', { node: 'imgs', image: 'other' });
    await sh('imgs', 'head -c 1M /dev/urandom > "$1/disk.img" && sync', `${WORK}/other`);
    expect((await icbd('snapshot', 'create', 'other')).code).toBe(0);
    await sh('imgs', 'head -c 1M /dev/urandom | dd of="$1/disk.img" bs=64K seek=40 conv=notrunc status=none && sync', `${WORK}/win10`);
    expect((await icbd('snapshot', 'create', 'win10', '--json')).code).toBe(0);
    const created = Date.now();

    const [push] = await until('the push of win10@3', async () => {
      const done = (await byOrigin('win10-fresh')).filter((t) => t.state === 'done');
      return done.length ? done : undefined;
    }, 90_000);
    expect(push!.queuedAt - created).toBeLessThan(60_000);
    expect(push).toMatchObject({ image: 'win10', number: 3, kind: 'incremental', parentNumber: 2, targets: [{ node: 'cache01', state: 'done' }] });
    expect((await schedule('win10-fresh')).lastRun).toMatchObject({ outcome: 'ok', reason: 'new snapshot of win10@3' });
    expect((await snapshotOn('cache01', 'win10', 3))?.receivedUuid).toBe((await snapshotOn('imgs', 'win10', 3))!.uuid);
    expect(await snapshotOn('cache01', 'other', 1)).toBeUndefined();
    expect((await icbd('schedule', 'rm', 'win10-fresh')).code).toBe(0);
  });

  it('a failed scheduled run reaches the operator: the other door hears of it, icbd health, the notify command, the audit', async () => {
    const failures: string[] = [];
    const off = lab.core.on('schedule.failed', ({ name, run }) => failures.push(`${name}: ${run.message}`));
    const out = join(lab.home, 'notified');
    expect((await icbd('schedule', 'notify', `env | grep ^ICBD_ | sort > '${out}'`)).code).toBe(0);
    expect((await icbd('schedule', 'add', 'broken', '--every', '1d', '--images', 'nosuch')).code).toBe(0);

    // Run by the CLI's own process; this core (the window) learns of it from the run state.
    const run = await icbd('schedule', 'run-now', 'broken');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED: .*nosuch/);
    const notified = await readFile(out, 'utf8');
    expect(notified).toContain('ICBD_SCHEDULE=broken\n');
    expect(notified).toContain('ICBD_OUTCOME=failed\n');
    expect(notified).toContain('ICBD_REASON=run now by the operator\n');
    expect(notified).toMatch(/^ICBD_MESSAGE=.*nosuch/m);
    await until('the failure to reach the other door', async () => (failures.length ? true : undefined), 30_000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^broken: .*nosuch/);
    off();

    const health = await icbd('health');
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/^broken +FAILED \d{4}-/m);
    expect(health.stdout).toMatch(/^schedule broken: .*nosuch/m);
    const audit = await lab.core.call('audit.list', {});
    expect(audit.find((e) => e.action === 'schedule.run' && e.result === 'failed')?.command).toBe('broken: nosuch → every cache (direct, auto)');
    expect(audit.find((e) => e.action === 'schedule.notify')).toMatchObject({ result: 'ok', detail: expect.stringMatching(/^broken failed: exit 0/) });
  });
});
