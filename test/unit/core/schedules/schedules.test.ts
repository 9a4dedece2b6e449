import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWhen, parseMinutes, parseRate, parseWindow, scheduleInput, type Schedule } from '../../../../shared/schedules.ts';
import { SchedulerLease } from '../../../../electron/core/schedules/lease.ts';
import { ScheduleStore, settleRun } from '../../../../electron/core/schedules/store.ts';
import { inWindow, isCatchUp, newSnapshots, nextRunAt, openingAtOrAfter, snapshotPollMs } from '../../../../electron/core/schedules/timing.ts';

/** Local times, so the tests hold in any time zone. */
const at = (day: number, h: number, m = 0) => new Date(2026, 11, day, h, m).getTime();
const MIN = 60_000;

function sched(when: Schedule['when'], extra: Partial<Schedule> = {}): Schedule {
  return { ...scheduleInput.parse({ name: 'nightly', when }), createdAt: at(1, 12), ...extra };
}

describe('time window', () => {
  const night = { from: '20:00', to: '06:00' };
  it('spans midnight when from is after to', () => {
    expect(inWindow(at(1, 21), night)).toBe(true);
    expect(inWindow(at(2, 5, 59), night)).toBe(true);
    expect(inWindow(at(2, 6), night)).toBe(false);
    expect(inWindow(at(2, 12), night)).toBe(false);
    expect(inWindow(at(2, 20), night)).toBe(true);
  });
  it('a day window', () => {
    const day = { from: '08:00', to: '18:30' };
    expect(inWindow(at(1, 7, 59), day)).toBe(false);
    expect(inWindow(at(1, 8), day)).toBe(true);
    expect(inWindow(at(1, 18, 30), day)).toBe(false);
  });
  it('a closed window moves a run to its next opening, an open one leaves it', () => {
    expect(openingAtOrAfter(at(2, 12), night)).toBe(at(2, 20));
    expect(openingAtOrAfter(at(2, 3), night)).toBe(at(2, 3));
    expect(openingAtOrAfter(at(2, 12), undefined)).toBe(at(2, 12));
  });
  it('a window from a time to itself is refused', () => {
    expect(scheduleInput.safeParse({ name: 'x', when: { kind: 'interval', minutes: 5 }, window: { from: '02:00', to: '02:00' } }).success).toBe(false);
  });
});

describe('next run', () => {
  it('daily: the next HH:MM after creation, then after each run', () => {
    const s = sched({ kind: 'daily', at: '02:00' });
    expect(nextRunAt(s, null, at(1, 13))).toBe(at(2, 2));
    expect(nextRunAt(s, { startedAt: at(2, 2) }, at(2, 2, 5))).toBe(at(3, 2));
  });
  it('interval: from the last start', () => {
    const s = sched({ kind: 'interval', minutes: 360 });
    expect(nextRunAt(s, null, at(1, 12, 30))).toBe(at(1, 18));
    expect(nextRunAt(s, { startedAt: at(1, 18) }, at(1, 19))).toBe(at(2, 0));
  });
  it('missed slots: one run now, however many were missed, then on from that run', () => {
    const s = sched({ kind: 'daily', at: '02:00' });
    const back = at(5, 9); // nothing ran on the 2nd, 3rd, 4th or 5th
    expect(nextRunAt(s, null, back)).toBe(back);
    expect(isCatchUp(s, null, back)).toBe(true);
    expect(nextRunAt(s, { startedAt: back }, back + MIN)).toBe(at(6, 2));
    expect(isCatchUp(s, { startedAt: back }, at(6, 2))).toBe(false);
  });
  it('a missed run waits for its window', () => {
    const s = sched({ kind: 'interval', minutes: 60 }, { window: { from: '20:00', to: '06:00' } });
    expect(nextRunAt(s, { startedAt: at(2, 5, 30) }, at(2, 9))).toBe(at(2, 20));
    expect(nextRunAt(s, { startedAt: at(2, 5, 30) }, at(2, 6, 10))).toBe(at(2, 20));
    expect(nextRunAt(s, { startedAt: at(2, 4) }, at(2, 4, 30))).toBe(at(2, 5));
  });
  it('disabled or snapshot-driven schedules have no time', () => {
    expect(nextRunAt(sched({ kind: 'daily', at: '02:00' }, { enabled: false }), null, at(1, 13))).toBeNull();
    expect(nextRunAt(sched({ kind: 'snapshot', withinMinutes: 10 }), null, at(1, 13))).toBeNull();
  });
  it('intervals shorter than a minute are refused', () => {
    expect(scheduleInput.safeParse({ name: 'x', when: { kind: 'interval', minutes: 0 } }).error?.issues[0]?.message).toMatch(/one minute/);
  });
  it('says when in words', () => {
    expect(describeWhen(sched({ kind: 'interval', minutes: 360 }, { window: { from: '20:00', to: '06:00' } }))).toBe('every 6 h, only 20:00–06:00');
    expect(describeWhen(sched({ kind: 'snapshot', withinMinutes: 10 }))).toBe('on a new snapshot, within 10 min');
  });
});

describe('new snapshots', () => {
  it('nothing is new on the first look; newer numbers and new images are', () => {
    expect(newSnapshots(undefined, { win10: 3 })).toEqual([]);
    expect(newSnapshots({ win10: 3, linux: 1 }, { win10: 3, linux: 2 })).toEqual(['linux']);
    expect(newSnapshots({ win10: 3 }, { win10: 3, ubuntu: 1 })).toEqual(['ubuntu']);
  });
  it('is looked for within a third of its delay, at least once a minute', () => {
    expect(snapshotPollMs(1)).toBe(20_000);
    expect(snapshotPollMs(30)).toBe(60_000);
  });
});

describe('lease and run claims', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'icbd-sched-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('one holder at a time; taken over only from a dead one', async () => {
    const a = new SchedulerLease(home, 'window');
    // pid 1 is alive on every Linux machine; a pid above pid_max is never alive.
    const live = new SchedulerLease(home, 'daemon', 1);
    const dead = new SchedulerLease(home, 'daemon', 2 ** 22 + 1);
    expect(await live.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
    expect(await a.describe()).toBe(`pid 1 on ${hostname()} (daemon)`);
    await live.release();
    expect(await dead.acquire()).toBe(true);
    expect(await a.acquire()).toBe(true);
    expect(await a.acquire()).toBe(true);
    expect(await dead.acquire()).toBe(false);
  });

  it('a schedule runs in one process at a time; a dead runner does not block it', async () => {
    const store = new ScheduleStore(home);
    const run = await store.claimRun('nightly', 'test');
    await expect(store.claimRun('nightly', 'test')).rejects.toThrow(/already running \(pid/);
    await store.finishRun('nightly', { ...run, pid: 2 ** 22 + 1 });
    const settled = settleRun((await store.readState()).nightly!.lastRun!);
    expect(settled.outcome).toBe('failed');
    expect(settled.message).toMatch(/Interrupted/);
    await expect(store.claimRun('nightly', 'test')).resolves.toMatchObject({ outcome: 'running', pid: process.pid });
  });

  it('definitions: a name once, replaced only when asked, removed with its state', async () => {
    const store = new ScheduleStore(home);
    await store.put(sched({ kind: 'daily', at: '02:00' }), false);
    await expect(store.put(sched({ kind: 'daily', at: '03:00' }), false)).rejects.toThrow(/already a schedule named nightly/);
    await store.put(sched({ kind: 'daily', at: '03:00' }, { createdAt: at(9, 9) }), true);
    expect((await store.get('nightly')).when).toEqual({ kind: 'daily', at: '03:00' });
    expect((await store.get('nightly')).createdAt).toBe(at(1, 12));
    await store.claimRun('nightly', 'test');
    await store.remove('nightly');
    expect((await store.read()).schedules).toEqual([]);
    expect(await store.readState()).toEqual({});
  });
});

describe('the operator\'s words', () => {
  it('durations in minutes', () => {
    expect(parseMinutes('10m')).toBe(10);
    expect(parseMinutes('6h')).toBe(360);
    expect(parseMinutes('1d')).toBe(1440);
    expect(parseMinutes('15')).toBe(15);
    expect(parseMinutes('soon')).toBeUndefined();
  });
  it('rates in bytes per second', () => {
    expect(parseRate('50M')).toBe(50 * 1024 ** 2);
    expect(parseRate('1.5GiB/s')).toBe(1.5 * 1024 ** 3);
    expect(parseRate('800')).toBe(800);
    expect(parseRate('0')).toBeUndefined();
    expect(parseRate('fast')).toBeUndefined();
  });
  it('windows', () => {
    expect(parseWindow('20:00-06:00')).toEqual({ from: '20:00', to: '06:00' });
    expect(parseWindow('20:00 – 06:00')).toEqual({ from: '20:00', to: '06:00' });
    expect(parseWindow('night')).toBeUndefined();
  });
});
