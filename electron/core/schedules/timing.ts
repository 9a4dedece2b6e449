import type { Schedule, ScheduleRun, TimeWindow } from '../../../shared/schedules.ts';

/**
 * When a schedule runs: pure functions of the schedule, its last run and the time, in the local
 * time of the machine that runs it (as cron and systemd timers do).
 */

const MINUTE = 60_000;

function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

function localMinutes(t: number): number {
  const d = new Date(t);
  return d.getHours() * 60 + d.getMinutes();
}

/** The first instant strictly after `t` whose local time of day is `hhmm` (DST-safe: built from the date). */
function nextTimeOfDay(t: number, hhmm: string): number {
  const d = new Date(t);
  const [h, m] = hhmm.split(':').map(Number);
  const candidate = new Date(d.getFullYear(), d.getMonth(), d.getDate(), h, m).getTime();
  return candidate > t ? candidate : new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, h, m).getTime();
}

/** Whether a run may start at `t`: always without a window; `from` after `to` spans midnight. */
export function inWindow(t: number, window: TimeWindow | undefined): boolean {
  if (!window) return true;
  const now = localMinutes(t);
  const from = minutesOfDay(window.from);
  const to = minutesOfDay(window.to);
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** `t` itself when the window is open then, else the window's next opening. */
export function openingAtOrAfter(t: number, window: TimeWindow | undefined): number {
  if (!window || inWindow(t, window)) return t;
  return nextTimeOfDay(t, window.from);
}

/** The first slot of a timed schedule after `t`: the next HH:MM, or t plus the interval. */
export function slotAfter(when: Schedule['when'], t: number): number | null {
  if (when.kind === 'daily') return nextTimeOfDay(t, when.at);
  if (when.kind === 'interval') return t + when.minutes * MINUTE;
  return null;
}

/**
 * When a timed schedule runs next. The first slot after its last start (or its creation) is due;
 * if that slot passed while nothing ran, it is due now: one catch-up run however many slots were
 * missed, after which the slots follow from that run. null for a disabled schedule, or one that
 * waits for a new snapshot.
 */
export function nextRunAt(s: Pick<Schedule, 'when' | 'window' | 'enabled' | 'createdAt'>, lastRun: Pick<ScheduleRun, 'startedAt'> | null, now: number): number | null {
  if (!s.enabled) return null;
  const slot = slotAfter(s.when, lastRun?.startedAt ?? s.createdAt);
  if (slot === null) return null;
  return openingAtOrAfter(Math.max(slot, now), s.window);
}

/** Whether the slot that makes a run due now was missed (its time passed while nothing ran). */
export function isCatchUp(s: Pick<Schedule, 'when' | 'createdAt'>, lastRun: Pick<ScheduleRun, 'startedAt'> | null, now: number, tolerance = MINUTE): boolean {
  const slot = slotAfter(s.when, lastRun?.startedAt ?? s.createdAt);
  return slot !== null && now - slot > tolerance;
}

/** How often a new-snapshot schedule looks at the source: a third of its delay, at most a minute. */
export function snapshotPollMs(withinMinutes: number): number {
  return Math.min(MINUTE, (withinMinutes * MINUTE) / 3);
}

/**
 * The images whose newest snapshot on the source is newer than the one last seen, or that had
 * none when last looked. Nothing is new on the first look: a schedule added today does not push
 * yesterday's snapshots.
 */
export function newSnapshots(seen: Readonly<Record<string, number>> | undefined, newest: Readonly<Record<string, number>>): string[] {
  if (!seen) return [];
  return Object.entries(newest)
    .filter(([image, n]) => n > (seen[image] ?? 0))
    .map(([image]) => image);
}
