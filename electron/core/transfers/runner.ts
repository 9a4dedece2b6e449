import { Readable, type PassThrough } from 'node:stream';
import { parseSubvolumeShow, receivedProblem, type Snapshot } from '../../../shared/snapshots.ts';
import type { TransferMode } from '../../../shared/transfers.ts';
import { lastText, parseReceiverState, receiverStateArgv, removeReceivedArgv } from '../replication/commands.ts';
import { snapshotLockPath, type PipelineCommands } from '../replication/pipeline.ts';
import type { RunTarget } from '../replication/planner.ts';
import { FanOut } from './relay.ts';
import { command } from '../../../shared/shell.ts';
import { runCleanup, runText, type HostChange, type RemoteExecResult, type NodeRemote } from '../remote/node.ts';
import { StreamWatch } from './watch.ts';

export interface RunGroupInput {
  /** The transfer's id: the snapshot lock on a receiver names the transfer that may clean up there. */
  transferId: string;
  remote: NodeRemote;
  mode: TransferMode;
  source: string;
  sent: Pick<Snapshot, 'uuid' | 'receivedUuid'>;
  commands: PipelineCommands;
  /** Relay mode's cap, applied in the app (the other modes pace on the source: pipeline.ts). */
  rateLimit?: number | undefined;
  targets: readonly RunTarget[];
  /** Cancel: the commands stop and what they left is deleted. */
  signal: AbortSignal;
  /** The stall watchdog gave up: the commands stop, and what the receivers staged is kept for a resume. */
  stall?: AbortSignal | undefined;
  onBytes(bytes: number): void;
  onLog(line: string): void;
  onVerifying(): void;
  /** The clean-up of a failed receive changed a node (the audit log). */
  onChange?(change: HostChange): void;
}

export interface TargetOutcome {
  node: string;
  ok: boolean;
  error?: string;
  /**
   * The receiver was lost mid-stream (a cut link, a restart, a stall: its receive never reported
   * an end) and nothing failed that a second try would meet again: its staged bytes are kept for
   * a resume (without staging, the next try sends everything again; tcp mode fails instead).
   */
  interrupted?: boolean;
}

/**
 * Runs one transfer's commands, then for each receiver: verify (read-only, received_uuid = the
 * sent snapshot's identity) or delete what was received. The source is only ever read. A cancel
 * stops the commands (their process groups) and cleans up the receivers.
 */
export async function runGroup(i: RunGroupInput): Promise<{ targets: TargetOutcome[]; cancelled: boolean }> {
  const watch = new StreamWatch(i.onBytes, i.onLog);
  const failures = new Map<string, string>();
  const signal = i.stall ? AbortSignal.any([i.signal, i.stall]) : i.signal;
  const sudo = { sudo: true, signal };
  const started: Promise<RemoteExecResult | undefined>[] = [];
  const guard = (p: Promise<RemoteExecResult>, what: string, nodes: readonly string[]) =>
    p.then(
      (r) => r,
      (err: unknown) => {
        for (const n of nodes) if (!failures.has(n)) failures.set(n, `${what}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      },
    );
  const all = i.targets.map((t) => t.node);

  if (i.mode === 'relay') {
    const fan = new FanOut(i.rateLimit);
    for (const r of i.commands.receivers) {
      const stdin: PassThrough = fan.sink();
      const run = i.remote.exec(r.host, r.argv, { ...sudo, stdin, onStderr: watch.listener(r.host) });
      started.push(guard(run.finally(() => fan.drop(stdin)), `receiving on ${r.host}`, [r.host]));
    }
    started.push(guard(i.remote.exec(i.source, i.commands.sender, { ...sudo, stdout: fan, onStderr: watch.listener(i.source) }), `sending from ${i.source}`, all));
  } else {
    // tcp: the secret on stdin (pipeline.ts); a receiver still running when its sender ended
    // without connecting to it is stopped then, not left to its listen deadline.
    const secret = () => (i.commands.stdin === undefined ? {} : { stdin: Readable.from([i.commands.stdin]) });
    const stops = new Map<string, AbortController>();
    for (const r of i.commands.receivers) {
      const stop = new AbortController();
      stops.set(r.host, stop);
      const receiving = i.remote.exec(r.host, r.argv, { ...sudo, signal: AbortSignal.any([signal, stop.signal]), ...secret(), onStderr: watch.listener(r.host) });
      started.push(guard(receiving.finally(() => stops.delete(r.host)), `receiving on ${r.host}`, [r.host]));
    }
    const sending = i.remote.exec(i.source, i.commands.sender, { ...sudo, ...secret(), onStderr: watch.listener(i.source) });
    started.push(
      guard(
        sending.finally(() => {
          for (const [node, stop] of stops) {
            const leg = watch.status(`leg@${node}`);
            if (leg === 0) continue;
            if (!failures.has(node)) failures.set(node, `${i.source} could not send to ${node} (its connection ${leg === undefined ? 'never ran' : `failed, exit ${leg}`}), so the receiver there was stopped`);
            stop.abort();
          }
        }),
        `sending from ${i.source}`,
        all,
      ),
    );
  }
  await Promise.all(started);
  const cancelled = i.signal.aborted;
  const outcome = watch.outcome(i.commands.shared, i.commands.perTarget);
  const tail = watch.tail();

  const results: TargetOutcome[] = [];
  const stopped = !cancelled && i.stall?.aborted === true;
  // btrfs send itself failing (not killed by a closed pipe) would fail again: no resume then.
  const sendFailed = ['send', 'skip'].some((m) => (watch.status(m) ?? 0) !== 0 && watch.status(m) !== 141);
  if (!cancelled && !stopped) i.onVerifying();
  for (const t of i.targets) {
    const streamError = failures.get(t.node) ?? outcome.targets[t.node] ?? (stopped ? 'stopped: no data moved' : undefined);
    // Lost: its receive never reported an end, or was killed by a signal (a node shutting down stops it with TERM).
    const received = watch.status(`receive@${t.node}`);
    const lost = !cancelled && streamError !== undefined && !sendFailed && watch.status(`free@${t.node}`) === 0 && (received === undefined || received >= 128);
    // tcp's one-time listen is not set up again (and stages nothing): its lost receiver fails.
    if (lost && i.mode !== 'tcp') {
      const error = `${t.node}: ${streamError}${tail ? `: ${tail}` : ''}`;
      i.onLog(`${error}; ${t.stagingPath !== undefined ? 'what arrived is kept for a resume' : `nothing was staged there: it is sent again from the start once ${t.node} answers`}.`);
      results.push({ node: t.node, ok: false, error, interrupted: true });
      continue;
    }
    let error = cancelled ? 'cancelled' : streamError ? `${streamError}${tail ? `: ${tail}` : ''}` : await verify(i.remote, t, i.sent, watch.bytes);
    if (error) {
      // Only a number proven free before the receive holds nothing but ours: the `free` marker says
      // so, or (a cancel may stop the stream before the marker reaches us, while the receive made
      // its snapshot) the snapshot's lock naming this transfer, which the clean-up checks.
      const cleaned = watch.status(`free@${t.node}`) === 0 || cancelled ? await removeReceived(i.remote, t, i.transferId, i.onChange) : 'nothing of it was received';
      error = `${t.node}: ${error}; ${cleaned}; ${i.source} is untouched.`;
      i.onLog(error);
    }
    results.push(error ? { node: t.node, ok: false, error } : { node: t.node, ok: true });
  }
  return { targets: results, cancelled };
}

/**
 * The sender's meter (pipeline.ts sendStage) counts a stream of more than 1 MiB to the byte; a
 * smaller one may be counted short (a tiny incremental as 0) or, by older btrfs-progs, twice.
 */
const METER_EXACT_ABOVE = 2 ** 20;

/**
 * undefined when the received snapshot is complete and is the one sent, and its staged stream as
 * long as what was sent (`sentBytes`; btrfs receive takes a stream cut at a command boundary for
 * a whole one, and each command's own crc32c says nothing of the ones missing), the staged stream
 * then deleted; otherwise why not.
 */
export async function verify(remote: NodeRemote, t: RunTarget, sent: Pick<Snapshot, 'uuid' | 'receivedUuid'>, sentBytes: number | undefined): Promise<string | undefined> {
  const state = await runText(remote, t.node, receiverStateArgv(t.finalPath, t.stagingPath, t.lockPath), { sudo: true, timeoutMs: 60_000 }).catch((err: unknown) => err as Error);
  if (state instanceof Error) return `could not check the received snapshot: ${state.message}`;
  const held = parseReceiverState(state.stdout);
  if (held.subvolume === null) return `the received snapshot is missing at ${t.finalPath}`;
  if (t.stagingPath !== undefined && sentBytes !== undefined && sentBytes > METER_EXACT_ABOVE && (held.staged ?? 0) < sentBytes)
    return `the stream arrived incomplete: ${held.staged ?? 0} of the ${sentBytes} bytes sent are on ${t.node}`;
  try {
    const problem = receivedProblem(parseSubvolumeShow(held.subvolume), sent);
    if (problem) return `verification failed: ${problem}`;
  } catch (err) {
    return `verification failed: ${(err as Error).message}`;
  }
  // A staged stream left behind costs its size in disk, not the snapshot: a failure here is not the push's.
  if (t.stagingPath !== undefined) await runText(remote, t.node, ['rm', '-f', t.stagingPath], { sudo: true, timeoutMs: 60_000 }).catch(() => undefined);
  return undefined;
}

export async function removeReceived(remote: NodeRemote, t: RunTarget, transferId: string, onChange?: (c: HostChange) => void): Promise<string> {
  const argv = removeReceivedArgv(t.finalPath, t.lockPath, snapshotLockPath(t.finalPath), transferId, t.stagingPath);
  const t0 = Date.now();
  const r = await runCleanup(remote, t.node, argv);
  const change = (result: HostChange['result'], detail: string) => onChange?.({ host: t.node, action: 'replication.cleanup', command: command(argv), result, detail, ms: Date.now() - t0 });
  if (r instanceof Error || r.code !== 0) {
    const why = r instanceof Error ? r.message : lastText(r.stderr);
    change('failed', why);
    return `the partial snapshot ${t.finalPath} could not be deleted (${why}): delete it with \`btrfs subvolume delete ${t.finalPath}\`${t.stagingPath ? ` and its staged stream with \`rm ${t.stagingPath}\`` : ''}`;
  }
  const owner = r.stdout.match(/^icbd:owner (.*)$/m)?.[1];
  if (owner !== undefined) return `${t.finalPath} was left alone: it is transfer ${owner || '(unknown)'}'s`;
  const unstaged = r.stdout.includes('icbd:unstaged');
  if (!r.stdout.includes('icbd:deleted')) {
    if (unstaged) change('ok', `deleted the staged stream ${t.stagingPath}`);
    return unstaged ? 'the bytes staged for it were deleted' : 'nothing of it was left on disk';
  }
  change('ok', `deleted the partial snapshot ${t.finalPath}${unstaged ? ' and its staged stream' : ''}`);
  return `the partial snapshot ${t.finalPath}${unstaged ? ' and the bytes staged for it were' : ' was'} deleted`;
}
