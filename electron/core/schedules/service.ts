import { AppError } from '../../../shared/errors.ts';
import type { Input, Output, RequestName } from '../../../shared/contract.ts';
import { describeWhat, type Schedule, type ScheduleFields, type ScheduleList, type ScheduleNotify, type ScheduleRun } from '../../../shared/schedules.ts';
import { isTransferFinished, transferSubject, type TransferRecord } from '../../../shared/transfers.ts';
import type { AuditRecord } from '../audit/log.ts';
import type { EventBus } from '../util/events.ts';
import { SchedulerLease } from './lease.ts';
import { runNotify } from './notify.ts';
import { ScheduleStore, isRunning, settleRun, type ScheduleState } from './store.ts';
import { inWindow, isCatchUp, newSnapshots, nextRunAt, snapshotPollMs } from './timing.ts';

/** The core's requests, as the window and the CLI make them: a schedule reaches its nodes only through these. */
export type Call = <K extends RequestName>(name: K, input: Input<K>) => Promise<Output<K>>;

export interface ScheduleServiceOptions {
  home: string;
  call: Call;
  events: EventBus;
  audit(record: AuditRecord): Promise<unknown>;
}

/** How often the schedules are looked at and the lease renewed: a run starts at most this late. */
const TICK_MS = 10_000;
/** While a run's transfers go on, the history is read this often in case an update event was missed. */
const WAIT_POLL_MS = 5_000;
/** Audit entries about the console's own machine (schedule definitions, notify commands). */
const LOCAL = 'localhost';

/**
 * Schedules: kept in the data directory, run by whichever door holds the scheduler lease. A run
 * is a sync (every carried image) or a push per named image, to the schedule's caches, made
 * through the same requests the window and the CLI make, with the schedule as the transfers'
 * origin; it ends when its transfers do. Every process, lease holder or not, reads the run
 * state on each tick, so a failure reaches the window whichever process ran it.
 */
export class ScheduleService {
  readonly store: ScheduleStore;
  #lease: SchedulerLease | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  /** The schedules this process is running now. */
  readonly #runs = new Set<string>();
  readonly #polled = new Map<string, number>();
  /** The end of each schedule's last failed run already announced, so each failure is announced once. */
  #announced: Map<string, number> | undefined;
  #stateText = '';

  constructor(private readonly o: ScheduleServiceOptions) {
    this.store = new ScheduleStore(o.home);
  }

  /** Starts looking at the schedules; `label` names this door in the lease ("window", "daemon" …). */
  start(label: string): void {
    if (this.#timer) return;
    this.#lease = new SchedulerLease(this.o.home, label);
    this.#timer = setInterval(() => void this.tick(), TICK_MS);
    this.#timer.unref();
    void this.tick();
  }

  /** Stops starting runs and gives the lease up; transfers already running end with the process. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#lease?.release().catch(() => undefined);
  }

  async list(): Promise<ScheduleList> {
    const [file, state] = await Promise.all([this.store.read(), this.store.readState()]);
    const now = Date.now();
    const runner = await (this.#lease ?? new SchedulerLease(this.o.home, '')).describe(now);
    return {
      schedules: file.schedules.map((s) => {
        const lastRun = state[s.name]?.lastRun ? settleRun(state[s.name]!.lastRun!) : null;
        return { ...s, lastRun, nextRunAt: lastRun?.outcome === 'running' ? null : nextRunAt(s, lastRun, now), runner };
      }),
      notify: file.notify ?? null,
    };
  }

  async add(input: ScheduleFields, replace: boolean): Promise<Schedule> {
    const caches = new Set((await this.o.call('hosts.list', {})).filter((h) => h.role === 'cache').map((h) => h.name));
    const unknown = input.caches.filter((c) => !caches.has(c));
    if (unknown.length) throw new AppError('INVALID_INPUT', `${unknown.join(', ')} ${unknown.length > 1 ? 'are not cache nodes' : 'is not a cache node'} of the inventory (icbd hosts list shows them).`, { field: 'caches' });
    const saved = await this.store.put({ ...input, createdAt: Date.now() }, replace);
    await this.o.audit({ host: LOCAL, action: replace ? 'schedule.replace' : 'schedule.add', result: 'ok', detail: `${saved.name}: ${describeWhat(saved)}, ${JSON.stringify(saved.when)}` });
    await this.#changed();
    return saved;
  }

  async remove(name: string): Promise<void> {
    await this.store.remove(name);
    await this.o.audit({ host: LOCAL, action: 'schedule.remove', result: 'ok', detail: name });
    await this.#changed();
  }

  async setNotify(notify: ScheduleNotify | null): Promise<void> {
    await this.store.setNotify(notify);
    await this.o.audit({ host: LOCAL, action: 'schedule.notify.set', result: 'ok', ...(notify ? { command: notify.command, detail: `on ${notify.on}` } : { detail: 'off' }) });
  }

  /**
   * Runs a schedule now, in this process, whatever its timing and window (the operator asked).
   * Refused while another process runs it. `wait`: answer when it has ended, else once started.
   */
  async runNow(name: string, wait: boolean): Promise<ScheduleRun> {
    const s = await this.store.get(name);
    const started = await this.#launch(s, 'run now by the operator');
    return wait ? started.ended : started.run;
  }

  /** One look: announce what changed, and if this process holds the lease, start what is due. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const state = await this.store.readState();
      await this.#announce(state);
      if (!(await this.#lease?.acquire())) return;
      for (const s of (await this.store.read()).schedules) {
        if (!s.enabled || this.#runs.has(s.name)) continue;
        // One schedule that cannot look at imgs (or lost a race to claim its run) must not hold up the others.
        const reason = await this.#due(s, state).catch(() => undefined);
        if (reason) await this.#launch(s, reason).catch(() => undefined);
      }
    } catch {
      // An unreadable schedules file is reported by list(); the next tick tries again.
    } finally {
      this.#ticking = false;
    }
  }

  /** Why `s` is to run now, or undefined. */
  async #due(s: Schedule, state: ScheduleState): Promise<string | undefined> {
    const now = Date.now();
    const lastRun = state[s.name]?.lastRun;
    if (lastRun && isRunning(lastRun)) return undefined;
    if (s.when.kind !== 'snapshot') {
      const next = nextRunAt(s, lastRun ?? null, now);
      if (next === null || next > now) return undefined;
      return isCatchUp(s, lastRun ?? null, now) ? 'its time passed while no run could start: caught up once' : 'its time came';
    }
    if (now - (this.#polled.get(s.name) ?? 0) < snapshotPollMs(s.when.withinMinutes)) return undefined;
    this.#polled.set(s.name, now);
    let newest: Record<string, number>;
    try {
      newest = await this.#newestOnSource(s);
    } catch {
      // Said once, by a run that fails the same way (it reaches imgs the same way) and says why, not at every look.
      return lastRun?.outcome === 'failed' ? undefined : 'imgs could not be looked at for new snapshots';
    }
    const seen = state[s.name]?.seen;
    const fresh = newSnapshots(seen, newest);
    if (seen && fresh.length === 0) return undefined;
    if (seen && !inWindow(now, s.window)) return undefined;
    // Seen as soon as it is handled: a failed push is reported once, not retried every poll.
    await this.store.updateState((st) => {
      st[s.name] = { ...st[s.name], seen: newest };
    });
    return seen ? `new snapshot${fresh.length > 1 ? 's' : ''} of ${fresh.map((i) => `${i}@${newest[i]}`).join(', ')}` : undefined;
  }

  async #newestOnSource(s: Schedule): Promise<Record<string, number>> {
    const [source] = await this.o.call('replication.repos', { nodes: [(await this.#nodes()).source] });
    const newest: Record<string, number> = {};
    for (const image of source?.images ?? []) {
      if (s.images.length && !s.images.includes(image.name)) continue;
      const n = Math.max(0, ...image.snapshots.map((x) => x.number));
      if (n > 0) newest[image.name] = n;
    }
    return newest;
  }

  async #launch(s: Schedule, reason: string): Promise<{ run: ScheduleRun; ended: Promise<ScheduleRun> }> {
    const run = await this.store.claimRun(s.name, reason);
    await this.#changed();
    this.#runs.add(s.name);
    const ended = this.#run(s, run).finally(() => this.#runs.delete(s.name));
    return { run, ended };
  }

  async #run(s: Schedule, run: ScheduleRun): Promise<ScheduleRun> {
    let source = LOCAL;
    let end: Pick<ScheduleRun, 'outcome' | 'message'>;
    try {
      const started = await this.#start(s);
      source = started.source;
      run = { ...run, transfers: started.transfers.map((t) => t.id), message: started.transfers.length ? `Sending ${started.transfers.map(transferSubject).join(', ')}.` : 'Started.' };
      await this.store.finishRun(s.name, run);
      await this.#changed();
      const final = await this.#waitFor(started.transfers);
      const failed = final.filter((t) => t.state !== 'done');
      const cap = s.rateLimit ? ' The rate cap is kept but not applied yet: transfers cannot be capped in this version.' : '';
      end = failed.length
        ? { outcome: 'failed', message: `${failed.map((t) => `${transferSubject(t)} → ${t.targets.map((x) => x.node).join(', ')}: ${t.state}, ${t.error?.message ?? ''}`).join('\n')}\nSee the transfer's log (icbd transfers, or the Transfers view), fix the cause, then run it again (icbd schedule run-now ${s.name}).` }
        : { outcome: 'ok', message: (final.length ? `Sent ${final.map(transferSubject).join(', ')}.` : 'Nothing to send: every cache was up to date.') + cap };
    } catch (err) {
      end = { outcome: 'failed', message: `${err instanceof Error ? err.message : String(err)}\nFix the cause, then run it again (icbd schedule run-now ${s.name}).` };
    }
    const done: ScheduleRun = { ...run, ...end, endedAt: Date.now() };
    await this.store.finishRun(s.name, done).catch(() => undefined);
    await this.o.audit({ host: source, action: 'schedule.run', command: `${s.name}: ${describeWhat(s)} (${s.mode}, ${s.compression})`, result: done.outcome === 'ok' ? 'ok' : 'failed', detail: `${done.reason}. ${done.message}`, ms: done.endedAt! - done.startedAt }).catch(() => undefined);
    if (done.outcome === 'failed') this.#announceFailure(s.name, done);
    await this.#notify(s.name, done);
    await this.#changed();
    return done;
  }

  /** The requests a run makes: a sync of every carried image, or a push of each named image. */
  async #start(s: Schedule): Promise<{ source: string; transfers: TransferRecord[] }> {
    const how = { mode: s.mode, compression: s.compression, origin: { schedule: s.name } } as const;
    const { source, caches: all } = await this.#nodes();
    const caches = s.caches.length ? s.caches : all;
    if (!caches.length) throw new AppError('NOT_FOUND', 'The inventory has no cache node to send to.');
    if (!s.images.length) {
      const { transfers } = await this.o.call('replication.sync', { source, targets: caches, ...how });
      return { source, transfers };
    }
    const transfers: TransferRecord[] = [];
    for (const image of s.images) transfers.push(...(await this.o.call('replication.push', { source, targets: caches, image, ...how })).transfers);
    return { source, transfers };
  }

  /** The image source (imgs) and every cache, from the inventory. */
  async #nodes(): Promise<{ source: string; caches: string[] }> {
    const hosts = await this.o.call('hosts.list', {});
    const source = hosts.find((h) => h.role === 'imgs')?.name;
    if (!source) throw new AppError('NOT_FOUND', 'The inventory has no imgs node (the image source).');
    return { source, caches: hosts.filter((h) => h.role === 'cache').map((h) => h.name) };
  }

  /** The transfers' records once all have ended (they run in this process; the history is read as a fallback). */
  async #waitFor(records: readonly TransferRecord[]): Promise<TransferRecord[]> {
    const latest = new Map(records.map((r) => [r.id, r]));
    const finished = () => [...latest.values()].every((r) => isTransferFinished(r.state));
    let wake: () => void = () => undefined;
    const off = this.o.events.on('transfer.update', (r) => {
      if (!latest.has(r.id)) return;
      latest.set(r.id, r);
      if (finished()) wake();
    });
    try {
      while (!finished()) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, WAIT_POLL_MS).unref();
        });
        if (finished()) break;
        for (const r of await this.o.call('transfers.list', {})) if (latest.has(r.id)) latest.set(r.id, r);
      }
    } finally {
      off();
    }
    return [...latest.values()];
  }

  async #notify(name: string, run: ScheduleRun): Promise<void> {
    const notify = (await this.store.read().catch(() => undefined))?.notify;
    if (!notify || (notify.on === 'failure' && run.outcome !== 'failed')) return;
    const result = await runNotify(notify, name, run, this.o.home);
    await this.o.audit({ host: LOCAL, action: 'schedule.notify', command: notify.command, result: result.ok ? 'ok' : 'failed', detail: `${name} ${run.outcome}: ${result.detail}` }).catch(() => undefined);
  }

  /** Failures ended since the last look, whichever process ran them, become events; the first look only takes note. */
  async #announce(state: ScheduleState): Promise<void> {
    const text = JSON.stringify(state);
    if (text === this.#stateText) return;
    this.#stateText = text;
    const first = this.#announced === undefined;
    this.#announced ??= new Map();
    for (const [name, { lastRun }] of Object.entries(state)) {
      if (!lastRun) continue;
      const run = settleRun(lastRun);
      if (run.outcome !== 'failed') continue;
      if (first) this.#announced.set(name, run.endedAt ?? run.startedAt);
      else this.#announceFailure(name, run);
    }
    if (!first) await this.#changed();
  }

  #announceFailure(name: string, run: ScheduleRun): void {
    const at = run.endedAt ?? run.startedAt;
    if (this.#announced?.get(name) === at) return;
    (this.#announced ??= new Map()).set(name, at);
    this.o.events.emit('schedule.failed', { name, run });
  }

  async #changed(): Promise<void> {
    const list = await this.list().catch(() => undefined);
    if (list) this.o.events.emit('schedules.changed', list);
  }
}
