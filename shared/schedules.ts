import { z } from 'zod';
import { codecRequest } from './compression.ts';
import { hostName } from './names.ts';
import { imageName } from './snapshots.ts';
import { transferMode } from './transfers.ts';

/**
 * Schedules: replication that runs by itself. A schedule names what (images and caches, each
 * "all" when empty), when (a time of day, an interval, or a new snapshot on imgs) and how (mode,
 * codec, rate cap, a time window outside which it does not start).
 */

export const scheduleName = z
  .string()
  .min(1, 'A schedule name is required.')
  .max(40, 'A schedule name has at most 40 characters.')
  .regex(/^[a-z][a-z0-9-]*$/, 'A schedule name is lowercase letters, digits and "-", and starts with a letter (e.g. nightly).');

export const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time of day is HH:MM, 00:00 to 23:59 (e.g. 02:00).');

export const scheduleWhen = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('daily'), at: timeOfDay }).strict(),
  z.object({ kind: z.literal('interval'), minutes: z.number().int('An interval is whole minutes.').min(1, 'The shortest interval is one minute.').max(10_080, 'The longest interval is a week (10080 minutes).') }).strict(),
  /** A snapshot newer than the last one seen on the source is pushed within this many minutes of its creation. */
  z.object({ kind: z.literal('snapshot'), withinMinutes: z.number().int('The delay is whole minutes.').min(1, 'The shortest delay is one minute.').max(1440, 'The longest delay is a day (1440 minutes).') }).strict(),
]);

/** Local time of day on the machine the schedules run on; `from` after `to` spans midnight (20:00–06:00). */
export const timeWindow = z
  .object({ from: timeOfDay, to: timeOfDay })
  .strict()
  .refine((w) => w.from !== w.to, 'A window from a time to the same time is always open: leave the window out instead.');
export type TimeWindow = z.infer<typeof timeWindow>;

export const scheduleInput = z
  .object({
    name: scheduleName,
    /** Empty: every image the caches carry (a sync). */
    images: z.array(imageName).default([]),
    /** Empty: every cache. */
    caches: z.array(hostName).default([]),
    when: scheduleWhen,
    mode: transferMode.default('direct'),
    compression: codecRequest.default('auto'),
    /** Bytes per second per transfer; kept and shown, applied once transfers can be capped. */
    rateLimit: z.number().int().positive('A rate cap is a positive number of bytes per second.').optional(),
    window: timeWindow.optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ScheduleInput = z.input<typeof scheduleInput>;
/** A schedule as validated, before it is saved. */
export type ScheduleFields = z.output<typeof scheduleInput>;

export const schedule = scheduleInput.extend({ createdAt: z.number() });
export type Schedule = z.infer<typeof schedule>;

export const RUN_OUTCOMES = ['running', 'ok', 'failed'] as const;
export const runOutcome = z.enum(RUN_OUTCOMES);

export const scheduleRun = z.object({
  startedAt: z.number(),
  endedAt: z.number().optional(),
  outcome: runOutcome,
  /** What happened, in words: what was sent, or why it failed and what to do. */
  message: z.string(),
  /** Why it ran: its time came, a missed run caught up, a new snapshot, or the operator's run-now. */
  reason: z.string(),
  transfers: z.array(z.string()),
  pid: z.number().int(),
  host: z.string(),
});
export type ScheduleRun = z.infer<typeof scheduleRun>;

/** A schedule with what the list shows beside it: its last run and when it runs next. */
export const scheduleView = schedule.extend({
  lastRun: scheduleRun.nullable(),
  /** null: waits for a new snapshot, or disabled. */
  nextRunAt: z.number().nullable(),
  /** Which process runs the schedules now (the lease holder), in words; null when none does. */
  runner: z.string().nullable(),
});
export type ScheduleView = z.infer<typeof scheduleView>;

/** Run with the outcome of a scheduled run in its environment (ICBD_SCHEDULE, ICBD_OUTCOME, …), as cron mails. */
export const scheduleNotify = z
  .object({
    command: z.string().min(1, 'Give the command to run, e.g. mail -s "iCBD schedule" root.').max(4000),
    on: z.enum(['failure', 'always']).default('failure'),
  })
  .strict();
export type ScheduleNotify = z.infer<typeof scheduleNotify>;

export const schedulesFile = z.object({
  version: z.literal(1),
  schedules: z.array(schedule),
  notify: scheduleNotify.optional(),
});
export type SchedulesFile = z.infer<typeof schedulesFile>;

export const scheduleList = z.object({ schedules: z.array(scheduleView), notify: scheduleNotify.nullable() });
export type ScheduleList = z.infer<typeof scheduleList>;

/** Sent when a scheduled run ends failed, whichever process ran it: the window shows it as a notification. */
export const scheduleFailed = z.object({ name: scheduleName, run: scheduleRun });

/** "daily 02:00", "every 6 h", "on a new snapshot, within 10 min", and the window. */
export function describeWhen(s: Pick<Schedule, 'when' | 'window'>): string {
  const w = s.when;
  const base = w.kind === 'daily' ? `daily at ${w.at}` : w.kind === 'interval' ? `every ${formatMinutes(w.minutes)}` : `on a new snapshot, within ${formatMinutes(w.withinMinutes)}`;
  return s.window ? `${base}, only ${s.window.from}–${s.window.to}` : base;
}

/** What a schedule sends, in words. */
export function describeWhat(s: Pick<Schedule, 'images' | 'caches'>): string {
  return `${s.images.length ? s.images.join(', ') : 'every carried image'} → ${s.caches.length ? s.caches.join(', ') : 'every cache'}`;
}

function formatMinutes(m: number): string {
  if (m % 1440 === 0) return `${m / 1440} d`;
  if (m % 60 === 0) return `${m / 60} h`;
  return `${m} min`;
}

/** "10m", "6h", "1d" or a number of minutes, as the CLI and the panel take them; undefined when unreadable. */
export function parseMinutes(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(m|min|h|d)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'm').toLowerCase();
  return Number(m[1]) * (unit === 'h' ? 60 : unit === 'd' ? 1440 : 1);
}

/** "50M", "1.5G/s", "800K" (binary units, as sizes are shown) as bytes per second; undefined when unreadable. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?(?:\/s)?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  const bytes = Math.round(Number(m[1]) * 1024 ** power);
  return bytes > 0 ? bytes : undefined;
}

/** "20:00-06:00" (or with an en dash) as a window; the times themselves are checked by the schema. */
export function parseWindow(text: string): { from: string; to: string } | undefined {
  const m = /^\s*(\S+?)\s*[-–]\s*(\S+)\s*$/.exec(text);
  return m ? { from: m[1]!, to: m[2]! } : undefined;
}
