import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors.ts';
import { schedulesFile, scheduleRun, type Schedule, type ScheduleNotify, type ScheduleRun, type SchedulesFile } from '../../../shared/schedules.ts';
import { readJsonFile, withFileLock, writeFileAtomic } from '../util/files.ts';
import { isAlive } from '../util/pids.ts';

export const SCHEDULES_FILE = 'schedules.json';
export const SCHEDULE_STATE_FILE = 'schedule-state.json';

/** What runs leave behind, apart from the definitions so a run never rewrites what the operator wrote. */
const scheduleState = z.record(
  z.string(),
  z.object({
    lastRun: scheduleRun.optional(),
    /** New-snapshot schedules: the newest snapshot number of each image on the source when last looked. */
    seen: z.record(z.string(), z.number()).optional(),
  }),
);
export type ScheduleState = z.infer<typeof scheduleState>;

/**
 * The schedules in the data directory: definitions in schedules.json, runs in
 * schedule-state.json. Read afresh on every call (several doors share them), written under the
 * file lock by atomic rename, like the inventory.
 */
export class ScheduleStore {
  readonly path: string;
  readonly statePath: string;

  constructor(home: string) {
    this.path = join(home, SCHEDULES_FILE);
    this.statePath = join(home, SCHEDULE_STATE_FILE);
  }

  async read(): Promise<SchedulesFile> {
    return (await readJsonFile(this.path, schedulesFile, 'valid schedules')) ?? { version: 1, schedules: [] };
  }

  async get(name: string): Promise<Schedule> {
    const found = (await this.read()).schedules.find((s) => s.name === name);
    if (!found) throw new AppError('NOT_FOUND', `There is no schedule named ${name} (icbd schedule list shows them).`);
    return found;
  }

  /** Adds a schedule, or replaces the one of that name when `replace` (its runs are kept). */
  async put(s: Schedule, replace: boolean): Promise<Schedule> {
    return this.#modify((file) => {
      const index = file.schedules.findIndex((x) => x.name === s.name);
      if (index >= 0 && !replace) throw new AppError('CONFLICT', `There is already a schedule named ${s.name}; remove it first, or replace it.`, { field: 'name' });
      const schedules = index >= 0 ? file.schedules.map((x, i) => (i === index ? { ...s, createdAt: x.createdAt } : x)) : [...file.schedules, s];
      return [{ ...file, schedules }, s];
    });
  }

  async remove(name: string): Promise<void> {
    await this.#modify((file) => {
      if (!file.schedules.some((s) => s.name === name)) throw new AppError('NOT_FOUND', `There is no schedule named ${name}.`);
      return [{ ...file, schedules: file.schedules.filter((s) => s.name !== name) }, undefined];
    });
    await this.updateState((state) => {
      delete state[name];
    });
  }

  async setNotify(notify: ScheduleNotify | null): Promise<void> {
    await this.#modify((file) => {
      const { notify: _old, ...rest } = file;
      return [notify ? { ...rest, notify } : rest, undefined];
    });
  }

  async readState(): Promise<ScheduleState> {
    return (await readJsonFile(this.statePath, scheduleState, 'valid schedule runs')) ?? {};
  }

  /** Read-modify-write of the run state under its lock; `change` edits the object in place. */
  async updateState<T>(change: (state: ScheduleState) => T): Promise<T> {
    return withFileLock(this.statePath, async () => {
      const state = await this.readState();
      const result = change(state);
      await writeFileAtomic(this.statePath, JSON.stringify(state, null, 2) + '\n');
      return result;
    });
  }

  /**
   * Marks a run of `name` started by this process, or refuses when a live process is running it:
   * the one check that keeps two doors from running the same schedule at once.
   */
  async claimRun(name: string, reason: string, now = Date.now()): Promise<ScheduleRun> {
    return this.updateState((state) => {
      const running = state[name]?.lastRun;
      if (running && isRunning(running))
        throw new AppError('CONFLICT', `Schedule ${name} is already running (pid ${running.pid} on ${running.host}, since ${new Date(running.startedAt).toISOString()}).`);
      const run: ScheduleRun = { startedAt: now, outcome: 'running', message: 'Started.', reason, transfers: [], pid: process.pid, host: hostname() };
      state[name] = { ...state[name], lastRun: run };
      return run;
    });
  }

  async finishRun(name: string, run: ScheduleRun): Promise<void> {
    await this.updateState((state) => {
      state[name] = { ...state[name], lastRun: run };
    });
  }

  async #modify<T>(change: (file: SchedulesFile) => [SchedulesFile, T]): Promise<T> {
    return withFileLock(this.path, async () => {
      const [next, result] = change(await this.read());
      await writeFileAtomic(this.path, JSON.stringify(next, null, 2) + '\n');
      return result;
    });
  }
}

/** A run marked running by a process that is gone was interrupted: it is shown as failed and does not block the next. */
export function isRunning(run: ScheduleRun): boolean {
  return run.outcome === 'running' && (run.host !== hostname() || isAlive(run.pid));
}

export function settleRun(run: ScheduleRun): ScheduleRun {
  if (run.outcome !== 'running' || isRunning(run)) return run;
  return { ...run, outcome: 'failed', message: `Interrupted: the process that ran it (pid ${run.pid}) stopped before it ended. The transfer history shows what was sent.` };
}
