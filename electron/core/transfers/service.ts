import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { codecLabel } from '../../../shared/compression.ts';
import { AppError, toWire } from '../../../shared/errors.ts';
import { fileName } from '../../../shared/names.ts';
import {
  isTransferFinished,
  progressFigures,
  pruneSamples,
  type ProgressSample,
  type PushRecord,
  type TransferOrigin,
  type TransferRecord,
  type UploadInto,
  type UploadRecord,
} from '../../../shared/transfers.ts';
import { formatRate } from '../../../shared/units.ts';
import type { PlannedGroup, PlannedPush } from '../replication/planner.ts';
import type { HostChange, NodeRemote } from '../remote/node.ts';
import { buildPipeline } from '../replication/pipeline.ts';
import { removeReceived, runGroup, type RunGroupInput, type TargetOutcome } from './runner.ts';
import { resumePoint, untilReachable } from './resume.ts';
import { NodeQueue } from './queue.ts';
import type { TransferStore } from './store.ts';
import { StallWatch } from './stall.ts';
import { checkTarget, localFile, runUpload, type LocalFile, type SendFile } from './upload.ts';

export interface TransferServiceOptions {
  store: TransferStore;
  remote: NodeRemote;
  /** Streams a local file into place on a node (SshPool.upload). */
  send: SendFile;
  /** Concurrent transfers allowed on a node. */
  limit(node: string): number;
  /** Seconds without a byte before a transfer between these nodes is stalled (stall.ts). */
  stallSeconds(nodes: readonly string[]): number;
  /** How long a push waits for a receiver it lost mid-stream before it gives up (the node's setting). */
  resumeWaitMs(node: string): Promise<number>;
  /** Every change of a record: state changes at once, progress about once a second (pv's pace). */
  onUpdate(record: TransferRecord): void;
  onLog?(id: string, line: string): void;
  /** Receives, uploads and clean-ups, as they end (the audit log). */
  /** The audit log; rejects when it could not record the change. */
  onChange?(change: HostChange): Promise<void>;
}

export interface UploadRequest {
  node: string;
  /** The local file, on the machine the core runs on. */
  file: string;
  into: UploadInto;
  /** The directory on the node (uploadDir). */
  dir: string;
  name?: string | undefined;
  overwrite: boolean;
  /** Bytes per second (the request's, or the node's setting); undefined: none. */
  rateLimit?: number | undefined;
}

/** How a running transfer reports back: the same for a push's group (runGroup) and an upload (runUpload). */
type RunnerHooks = Pick<RunGroupInput, 'onLog' | 'onBytes' | 'onVerifying' | 'onChange'> & {
  /** Set when the stall watchdog gave up on the transfer (and stopped it): why, in words. */
  stalled(): string | undefined;
  /** A push's current attempt: aborted when the watchdog gives up (an upload is cancelled instead). */
  stall(): AbortSignal;
  /** A push's new attempt: a new watchdog, which expects no byte for `graceMs` (the replay of what is staged). */
  rearm(graceMs: number): void;
  /** The watchdog's end, with the transfer's. */
  stop(): void;
};

/** How fast a receiver is counted on to replay its staged stream into btrfs receive (20 MB/s, a slow disk's). */
const REPLAY_BYTES_PER_MS = 20_000;

/** Progress is written to the history at most this often; state changes are written at once. */
const PERSIST_PROGRESS_MS = 5_000;

/**
 * The monitor's engine: each group of a push's plan, and each upload, becomes a transfer record,
 * waits in the per-node queue (an upload takes a slot on its receiving node), runs, and ends
 * done, failed (per receiver, with the reason) or cancelled.
 */
export class TransferService {
  readonly #queue: NodeQueue;
  readonly #active = new Map<string, { record: TransferRecord; abort: AbortController }>();
  #writes: Promise<void> = Promise.resolve();
  #polling: NodeJS.Timeout | undefined;

  constructor(private readonly o: TransferServiceOptions) {
    this.#queue = new NodeQueue(o.limit);
  }

  /** While transfers are active, once a second: cancel requests from other processes (`icbd cancel`). */
  #pollCancelRequests(): void {
    if (this.#polling) return;
    this.#polling = setInterval(() => {
      if (this.#active.size === 0) {
        clearInterval(this.#polling);
        this.#polling = undefined;
        return;
      }
      for (const id of this.#active.keys())
        void this.o.store
          .takeCancelRequest(id)
          .then((asked) => asked && this.cancel(id))
          .catch(() => undefined);
    }, 1000);
    this.#polling.unref();
  }

  /** Queues every group of the plan; returns their records (state queued). `origin`: the schedule that asked. */
  async enqueue(push: PlannedPush, origin?: TransferOrigin): Promise<PushRecord[]> {
    const records: PushRecord[] = [];
    for (const group of push.groups) {
      const record: PushRecord = {
        operation: 'push',
        id: group.id,
        source: push.plan.source,
        targets: group.wire.targets.map((node) => ({ node, state: 'pending' })),
        image: push.plan.image,
        number: push.plan.number,
        mode: push.plan.mode,
        kind: group.wire.kind,
        parentNumber: group.parent?.number ?? null,
        codec: group.wire.codec,
        ...(group.wire.codecNote ? { codecNote: group.wire.codecNote } : {}),
        ...(origin ? { origin } : {}),
        rateLimit: group.wire.rateLimit ?? null,
        ...(group.wire.codecLevel ? { codecLevel: group.wire.codecLevel } : {}),
        ...(group.targets.some((t) => t.stagingPath !== undefined) ? { staged: true } : {}),
        uuid: push.snapshot.uuid,
        parentUuid: group.parent?.uuid ?? null,
        state: 'queued',
        bytes: 0,
        totalBytes: group.wire.estimatedBytes,
        rate: null,
        fraction: group.wire.estimatedBytes === null ? null : 0,
        etaSeconds: null,
        queuedAt: Date.now(),
      };
      records.push(await this.#queued(record, [push.plan.source, ...group.wire.targets], (signal) => this.#run(push, group, record, signal)));
    }
    return records;
  }

  /**
   * Queues an upload; refused at once (nothing queued, nothing sent) when the local file is not
   * a readable regular file, the name is taken and overwrite is off, or the node lacks the space.
   */
  async upload(req: UploadRequest): Promise<UploadRecord> {
    const file = await localFile(req.file);
    const name = req.name ?? basename(file.path);
    const named = fileName.safeParse(name);
    if (!named.success) throw new AppError('INVALID_INPUT', `The file's own name ${JSON.stringify(name)} cannot be used on the node (${named.error.issues[0]?.message.replace(/\.$/, '')}): give it another name.`);
    const target = { node: req.node, dir: req.dir, name, into: req.into, overwrite: req.overwrite };
    await checkTarget(this.o.remote, target, file.size);
    const record: UploadRecord = {
      operation: 'upload',
      id: randomUUID(),
      source: `the operator's machine (${hostname()})`,
      targets: [{ node: req.node, state: 'pending' }],
      file: file.path,
      into: req.into,
      dir: req.dir,
      name,
      overwrite: req.overwrite,
      rateLimit: req.rateLimit ?? null,
      state: 'queued',
      bytes: 0,
      totalBytes: file.size,
      rate: null,
      fraction: 0,
      etaSeconds: null,
      queuedAt: Date.now(),
    };
    return this.#queued(record, [req.node], (signal) => this.#runUpload(record, file, signal));
  }

  async #queued<R extends TransferRecord>(record: R, nodes: readonly string[], run: (signal: AbortSignal) => Promise<void>): Promise<R> {
    const abort = new AbortController();
    this.#active.set(record.id, { record, abort });
    await this.#save(record);
    // Copied before queueing: a transfer whose nodes are free starts at once, and the caller is
    // told what was queued.
    const queued = { ...record, targets: record.targets.map((t) => ({ ...t })) };
    this.#pollCancelRequests();
    this.#queue.add({ id: record.id, nodes, start: () => run(abort.signal) });
    return queued;
  }

  /** false when the transfer has already finished. A transfer of another process is asked to cancel through the store. */
  async cancel(id: string): Promise<boolean> {
    const active = this.#active.get(id);
    if (!active) {
      if (await this.o.store.ownerAlive(id)) {
        await this.o.store.requestCancel(id);
        return true;
      }
      if (await this.o.store.get(id)) return false;
      throw new AppError('NOT_FOUND', `There is no transfer ${id}.`);
    }
    if (this.#queue.remove(id)) {
      active.record.state = 'cancelled';
      active.record.endedAt = Date.now();
      active.record.error = { code: 'CANCELLED', message: 'Cancelled before it started.' };
      this.#active.delete(id);
      await this.#save(active.record);
      return true;
    }
    active.abort.abort();
    return true;
  }

  /** The history, with this process's running transfers at their latest progress (the file lags by up to 5 s). */
  async list(): Promise<TransferRecord[]> {
    return (await this.o.store.list()).map((r) => {
      const live = this.#active.get(r.id)?.record;
      return live ? { ...live, targets: live.targets.map((t) => ({ ...t })) } : r;
    });
  }

  /**
   * Marks the record running and returns the hooks its runner reports through: log, progress,
   * verifying, the audit log; and the stall watchdog, which stops the transfer when no byte has
   * moved for twice the stall time.
   */
  async #start(record: TransferRecord, nodes: readonly string[]): Promise<RunnerHooks> {
    record.state = 'running';
    record.startedAt = Date.now();
    await this.#save(record);
    const onLog = (line: string) => {
      this.o.onLog?.(record.id, line);
      void this.o.store.log(record.id, line).catch(() => undefined);
    };
    const seconds = this.o.stallSeconds(nodes);
    let gaveUp: string | undefined;
    let stall = new AbortController();
    const watchdog = (graceMs = 0) => new StallWatch({
      seconds,
      graceMs,
      onStalled: (since) => {
        record.state = 'stalled';
        record.stalledSince = since;
        onLog(`stalled: no data for ${seconds} s (since ${clock(since)})`);
        void this.#save(record);
      },
      onMoving: () => {
        record.state = 'running';
        delete record.stalledSince;
        onLog('moving again');
        void this.#save(record);
      },
      onGiveUp: (since) => {
        gaveUp = `No data moved for ${Math.round((Date.now() - since) / 1000)} s (nothing since ${clock(since)}): the link to ${nodes.join(' or ')} is down, or a node stopped answering. Check them (icbd health), then start it again.`;
        onLog(gaveUp);
        // A push keeps what its receivers staged and waits to resume; an upload ends.
        if (record.operation === 'push') stall.abort();
        else this.#active.get(record.id)?.abort.abort();
      },
    });
    let watch = watchdog();
    const progress = this.#progress(record);
    return {
      onLog,
      onBytes: (bytes) => {
        watch.bytes(bytes);
        progress(bytes);
      },
      onVerifying: () => {
        watch.stop();
        record.state = 'verifying';
        delete record.stalledSince;
        void this.#save(record);
      },
      onChange: (change) => this.#audit(record, change),
      stalled: () => gaveUp,
      stall: () => stall.signal,
      rearm: (graceMs) => {
        watch.stop();
        gaveUp = undefined;
        stall = new AbortController();
        watch = watchdog(graceMs);
      },
      stop: () => watch.stop(),
    };
  }

  /**
   * A transfer's change to a node, into the audit log. The transfer has already done it, so a log
   * that fails does not fail the transfer: it is said in the transfer's log and on its record.
   */
  #audit(record: TransferRecord, change: HostChange): void {
    void this.o.onChange?.(change).catch((err: unknown) => {
      const message = `${toWire(err).message} The change was made: note it, and fix the data directory.`;
      record.auditError = message;
      this.o.onLog?.(record.id, message);
      void this.o.store.log(record.id, message).catch(() => undefined);
      void this.#save(record);
    });
  }

  /** Takes each byte count (about once a second) into the record: rate, percent and ETA. */
  #progress(record: TransferRecord): (bytes: number) => void {
    let samples: ProgressSample[] = [];
    let persisted = 0;
    return (bytes: number) => {
      samples = pruneSamples([...samples, { at: Date.now(), bytes }]);
      Object.assign(record, { bytes }, progressFigures(samples, record.totalBytes));
      if (Date.now() - persisted >= PERSIST_PROGRESS_MS) {
        persisted = Date.now();
        void this.#save(record);
      } else this.o.onUpdate({ ...record, targets: record.targets.map((t) => ({ ...t })) });
    };
  }

  async #end(record: TransferRecord, hooks: RunnerHooks): Promise<void> {
    hooks.stop();
    const log = hooks.onLog;
    delete record.stalledSince;
    record.endedAt = Date.now();
    record.etaSeconds = null;
    if (record.state === 'done' && record.totalBytes !== null) record.fraction = 1;
    log(record.state === 'done' ? 'done' : `${record.state}: ${record.error?.message ?? ''}`);
    this.#active.delete(record.id);
    await this.#save(record);
  }

  async #run(push: PlannedPush, group: PlannedGroup, record: PushRecord, signal: AbortSignal): Promise<void> {
    const hooks = await this.#start(record, [push.plan.source, ...group.wire.targets]);
    hooks.onLog(`${push.plan.image}@${push.plan.number}: ${record.kind}${group.parent ? ` from parent ${group.parent.number}` : ''}, ${record.mode}, ${codecLabel(record.codec, record.codecLevel)}${record.rateLimit ? `, at most ${formatRate(record.rateLimit)}` : ''}, ${push.plan.source} → ${group.wire.targets.join(', ')}${record.origin ? `, started by schedule ${record.origin.schedule}` : ''}`);
    try {
      const result = await this.#attempts(push, group, record, signal, hooks);
      for (const t of result.targets) {
        const receive = group.wire.commands.find((c) => c.host === t.node) ?? group.wire.commands.at(-1)!;
        this.#audit(record, {
          host: t.node,
          action: 'replication.receive',
          command: receive.command,
          result: t.ok ? 'ok' : result.cancelled ? 'cancelled' : 'failed',
          detail: t.ok ? `${push.plan.image}@${push.plan.number} from ${push.plan.source} (${record.kind}, ${record.mode}, ${codecLabel(record.codec, record.codecLevel)})` : (t.error ?? 'failed'),
          ms: Date.now() - record.startedAt!,
        });
      }
      record.targets = result.targets.map((t) => (t.ok ? { node: t.node, state: 'done' } : { node: t.node, state: 'failed', error: t.error ?? 'failed' }));
      const failed = result.targets.filter((t) => !t.ok);
      const stalled = hooks.stalled();
      // A cancel wins over a stall: the operator may cancel a push that waits after one.
      if (result.cancelled) {
        record.state = 'cancelled';
        // What each receiver's clean-up found and did (a partial snapshot deleted, nothing there, one left alone as another transfer's).
        record.error = { code: 'CANCELLED', message: ['Cancelled.', ...failed.map((t) => t.error)].join('\n') };
      } else if (stalled) {
        record.state = 'failed';
        record.error = { code: 'TIMEOUT', message: [stalled, ...failed.map((t) => t.error)].join('\n') };
      } else if (failed.length) {
        record.state = 'failed';
        record.error = { code: 'REMOTE_FAILED', message: failed.map((t) => t.error).join('\n') };
      } else record.state = 'done';
    } catch (err) {
      record.state = 'failed';
      record.error = { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
    }
    delete record.waiting;
    await this.#end(record, hooks);
  }

  /**
   * Runs the group from where its receivers stand, and again from where they stopped for each
   * receiver lost mid-stream (a cut link, a restart, a stall), once it and the source answer
   * again, for as long as that node's resume wait allows; then what it holds is deleted and it
   * fails.
   */
  async #attempts(push: PlannedPush, group: PlannedGroup, record: PushRecord, signal: AbortSignal, hooks: RunnerHooks): Promise<{ targets: TargetOutcome[]; cancelled: boolean }> {
    const outcomes = new Map<string, TargetOutcome>();
    let targets = group.targets;
    for (;;) {
      const spec = { ...group.spec, targets: group.spec.targets.filter((t) => targets.some((x) => x.node === t.node)) };
      const resumed = await resumePoint({ remote: this.o.remote, source: push.plan.source, spec, targets, onLog: hooks.onLog });
      // Each receiver replays what it staged before the first new byte can move: not a stall.
      hooks.rearm(Math.max(0, ...resumed.targets.map((t) => t.staged ?? 0)) / REPLAY_BYTES_PER_MS);
      const result = await runGroup({
        transferId: record.id,
        remote: this.o.remote,
        mode: push.plan.mode,
        source: push.plan.source,
        sent: push.snapshot,
        commands: buildPipeline(resumed),
        rateLimit: group.wire.rateLimit,
        targets,
        signal,
        ...hooks,
        stall: hooks.stall(),
      });
      for (const t of result.targets) outcomes.set(t.node, t);
      const lost = targets.filter((t) => outcomes.get(t.node)?.interrupted);
      if (lost.length === 0 || result.cancelled) return { targets: [...outcomes.values()], cancelled: result.cancelled };
      hooks.stop();
      const since = Date.now();
      const names = lost.map((t) => t.node);
      const waitMs = Math.min(...(await Promise.all(names.map((n) => this.o.resumeWaitMs(n)))));
      record.state = 'running';
      record.waiting = `link to ${names.join(', ')} down since ${clock(since).slice(0, 5)}, retrying (gives up after ${Math.round(waitMs / 60_000)} min)`;
      hooks.onLog(record.waiting);
      await this.#save(record);
      const repository = (node: string) => {
        const dir = group.spec.targets.find((t) => t.node === node)!.imageDir;
        return { node, path: dir.slice(0, dir.lastIndexOf('/')) };
      };
      const back = await untilReachable(this.o.remote, [{ node: push.plan.source, path: group.spec.snapshotPath }, ...names.map(repository)], since + waitMs, signal);
      delete record.waiting;
      if (!back) {
        const why = signal.aborted ? 'cancelled' : `${names.join(', ')} did not answer again within ${names.length === 1 ? 'its' : 'their'} resume wait (${Math.round(waitMs / 60_000)} min)`;
        for (const t of lost) {
          const cleaned = await removeReceived(this.o.remote, t, record.id, hooks.onChange);
          const error = `${t.node}: ${why}; ${cleaned}; ${push.plan.source} is untouched.`;
          hooks.onLog(error);
          outcomes.set(t.node, { node: t.node, ok: false, error });
        }
        return { targets: [...outcomes.values()], cancelled: signal.aborted };
      }
      hooks.onLog(`${names.join(', ')} answer${names.length === 1 ? 's' : ''} again: resuming.`);
      // What a receiver without staging got is of no use to the next attempt, whose receive refuses a number that exists.
      for (const t of lost) if (t.stagingPath === undefined) hooks.onLog(`${t.node}: ${await removeReceived(this.o.remote, t, record.id, hooks.onChange)}; sending it again from the start.`);
      targets = lost;
      await this.#save(record);
    }
  }

  async #runUpload(record: UploadRecord, queued: LocalFile, signal: AbortSignal): Promise<void> {
    const node = record.targets[0]!.node;
    const hooks = await this.#start(record, [node]);
    try {
      // The file may have changed while the upload waited its turn: the total is its size now.
      const file = await localFile(queued.path);
      record.totalBytes = file.size;
      await runUpload({
        remote: this.o.remote,
        send: this.o.send,
        id: record.id,
        node,
        dir: record.dir,
        name: record.name,
        into: record.into,
        overwrite: record.overwrite,
        rateLimit: record.rateLimit ?? undefined,
        file,
        signal,
        ...hooks,
      });
      record.state = 'done';
      record.targets = [{ node, state: 'done' }];
    } catch (err) {
      const stalled = hooks.stalled();
      const e = stalled ? new AppError('TIMEOUT', stalled) : err instanceof AppError ? err : new AppError('INTERNAL', err instanceof Error ? err.message : String(err));
      record.state = e.code === 'CANCELLED' ? 'cancelled' : 'failed';
      record.error = { code: e.code, message: e.message };
      record.targets = [{ node, state: 'failed', error: e.message }];
    }
    await this.#end(record, hooks);
  }

  async #save(record: TransferRecord): Promise<void> {
    const copy = { ...record, targets: record.targets.map((t) => ({ ...t })) };
    this.o.onUpdate(copy);
    // One write after the other: progress and "verifying" are saved without waiting, and the
    // file lock is not first come, first served, so a state written later could land earlier
    // and the history would keep a finished transfer as still verifying.
    const write = this.#writes.then(() => this.o.store.put(copy)).catch((err: unknown) => this.o.onLog?.(record.id, `could not write the transfer history: ${(err as Error).message}`));
    this.#writes = write;
    await write;
    if (isTransferFinished(record.state)) this.#active.delete(record.id);
  }
}

const clock = (at: number) => new Date(at).toLocaleTimeString('en-GB', { hour12: false });
