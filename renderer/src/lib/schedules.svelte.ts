import type { ScheduleInput, ScheduleList, ScheduleRun } from '../../../shared/schedules.ts';
import { api } from './api.ts';

export interface ScheduleFailure {
  name: string;
  run: ScheduleRun;
}

/**
 * The schedules, their last and next runs, kept current by schedules.changed. A failed scheduled
 * run (whichever process ran it) arrives as schedule.failed: it is kept for the Hosts and
 * Schedules views until dismissed, and shown as a desktop notification where the browser allows
 * one (the Electron window's main process shows its own).
 */
class Schedules {
  list = $state.raw<ScheduleList>({ schedules: [], notify: null });
  loaded = $state(false);
  error = $state<unknown>();
  failures = $state.raw<ScheduleFailure[]>([]);

  follow(): () => void {
    const offs = [
      api.on('schedules.changed', (list) => {
        this.list = list;
        this.loaded = true;
      }),
      api.on('schedule.failed', (failure) => {
        this.failures = [failure, ...this.failures.filter((f) => f.name !== failure.name)];
        notifyDesktop(failure);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async refresh(): Promise<void> {
    try {
      this.list = await api.invoke('schedules.list', {});
      this.loaded = true;
      this.error = undefined;
      // Failures from before this window opened are known too: the last run of each schedule says so.
      const shown = new Set(this.failures.map((f) => f.name));
      const older = this.list.schedules.filter((s) => s.lastRun?.outcome === 'failed' && !shown.has(s.name)).map((s) => ({ name: s.name, run: s.lastRun! }));
      if (older.length) this.failures = [...this.failures, ...older];
    } catch (err) {
      this.error = err;
    }
  }

  async add(schedule: ScheduleInput): Promise<void> {
    await api.invoke('schedules.add', { schedule });
    await this.refresh();
  }

  async remove(name: string): Promise<void> {
    await api.invoke('schedules.remove', { name });
    this.dismiss(name);
    await this.refresh();
  }

  async runNow(name: string): Promise<void> {
    this.dismiss(name);
    await api.invoke('schedules.runNow', { name });
    await this.refresh();
  }

  dismiss(name: string): void {
    this.failures = this.failures.filter((f) => f.name !== name);
  }
}

function notifyDesktop({ name, run }: ScheduleFailure): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  new Notification(`iCBD schedule ${name} failed`, { body: run.message.split('\n')[0] ?? '', tag: `schedule-${name}` });
}

export const schedules = new Schedules();
