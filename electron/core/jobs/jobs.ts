import { randomUUID } from 'node:crypto';
import { AppError, toWire } from '../../../shared/errors.ts';
import { isFinished, type JobInfo, type JobLog } from '../../../shared/jobs.ts';
import type { EventBus } from '../util/events.ts';

export interface JobContext {
  id: string;
  signal: AbortSignal;
  progress(fraction: number | undefined, message?: string): void;
  log(line: string, stream?: JobLog['stream']): void;
}

const KEEP_FINISHED = 200;

/**
 * Runs long operations as jobs. Progress messages are coalesced by the caller's pace (lab steps,
 * once-a-second transfer samples); nothing here emits per chunk of data.
 */
export class Jobs {
  readonly #jobs = new Map<string, { info: JobInfo; abort: AbortController }>();

  constructor(private readonly events: EventBus) {}

  start(kind: string, title: string, run: (ctx: JobContext) => Promise<unknown>): JobInfo {
    const abort = new AbortController();
    const info: JobInfo = { id: randomUUID(), kind, title, state: 'running', startedAt: Date.now() };
    this.#jobs.set(info.id, { info, abort });
    this.#prune();
    const update = (patch: Partial<JobInfo>) => {
      Object.assign(info, patch);
      this.events.emit('job.update', { ...info });
    };
    const ctx: JobContext = {
      id: info.id,
      signal: abort.signal,
      progress: (fraction, message) => {
        if (isFinished(info.state)) return;
        update({ progress: fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction)), message });
      },
      log: (line, stream = 'info') => this.events.emit('job.log', { id: info.id, stream, line, at: Date.now() }),
    };
    update({});
    void run(ctx).then(
      (result) =>
        update({
          state: abort.signal.aborted ? 'cancelled' : 'done',
          progress: 1,
          endedAt: Date.now(),
          ...(result !== undefined && { result }),
        }),
      (err: unknown) =>
        update({
          state: abort.signal.aborted ? 'cancelled' : 'failed',
          error: toWire(err),
          endedAt: Date.now(),
        }),
    );
    return { ...info };
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((j) => ({ ...j.info })).sort((a, b) => b.startedAt - a.startedAt);
  }

  cancel(id: string): boolean {
    const job = this.#jobs.get(id);
    if (!job) throw new AppError('NOT_FOUND', `There is no job ${id}.`);
    if (isFinished(job.info.state)) return false;
    job.abort.abort(new AppError('CANCELLED', `${job.info.title}: cancelled by the operator.`));
    return true;
  }

  /** Resolves when the job has finished, with its final state. */
  wait(id: string): Promise<JobInfo> {
    const job = this.#jobs.get(id);
    if (!job) return Promise.reject(new AppError('NOT_FOUND', `There is no job ${id}.`));
    if (isFinished(job.info.state)) return Promise.resolve({ ...job.info });
    return new Promise((resolve) => {
      const off = this.events.on('job.update', (info) => {
        if (info.id === id && isFinished(info.state)) {
          off();
          resolve(info);
        }
      });
    });
  }

  #prune(): void {
    const finished = [...this.#jobs.values()].filter((j) => isFinished(j.info.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#jobs.delete(j.info.id);
  }
}
