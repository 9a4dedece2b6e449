import type { PassThrough } from 'node:stream';
import { parseSubvolumeShow, receivedProblem, type Snapshot } from '../../../shared/snapshots.ts';
import type { TransferMode } from '../../../shared/transfers.ts';
import { cleanupArgv, finalizeArgv, lastText, showArgv } from './commands.ts';
import type { PipelineCommands } from './pipeline.ts';
import { FanOut } from './relay.ts';
import { runText, type RemoteExecResult, type ReplicationRemote } from './remote.ts';
import { StreamWatch } from './watch.ts';

export interface RunTarget {
  node: string;
  stage: string;
  /** Where the stream's subvolume appears: `<stage>/<n>`. */
  stagedPath: string;
  finalPath: string;
}

export interface RunGroupInput {
  remote: ReplicationRemote;
  mode: TransferMode;
  source: string;
  sent: Pick<Snapshot, 'uuid' | 'receivedUuid'>;
  commands: PipelineCommands;
  targets: readonly RunTarget[];
  signal: AbortSignal;
  onBytes(bytes: number): void;
  onLog(line: string): void;
  onVerifying(): void;
}

export interface TargetOutcome {
  node: string;
  ok: boolean;
  error?: string;
}

/**
 * Runs one transfer's commands, then for each receiver: verify (read-only, received_uuid = the
 * sent snapshot's identity), rename into place, or delete what was received. The source is only
 * ever read. A cancel stops the commands (their process groups) and cleans up the receivers.
 */
export async function runGroup(i: RunGroupInput): Promise<{ targets: TargetOutcome[]; cancelled: boolean }> {
  const watch = new StreamWatch(i.onBytes, i.onLog);
  const failures = new Map<string, string>();
  const sudo = { sudo: true, signal: i.signal };
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
    const fan = new FanOut();
    for (const r of i.commands.receivers) {
      const stdin: PassThrough = fan.sink();
      const run = i.remote.exec(r.host, r.argv, { ...sudo, stdin, onStderr: watch.listener(r.host) });
      started.push(guard(run.finally(() => fan.drop(stdin)), `receiving on ${r.host}`, [r.host]));
    }
    started.push(guard(i.remote.exec(i.source, i.commands.sender, { ...sudo, stdout: fan, onStderr: watch.listener(i.source) }), `sending from ${i.source}`, all));
  } else {
    for (const r of i.commands.receivers) started.push(guard(i.remote.exec(r.host, r.argv, { ...sudo, onStderr: watch.listener(r.host) }), `receiving on ${r.host}`, [r.host]));
    started.push(guard(i.remote.exec(i.source, i.commands.sender, { ...sudo, onStderr: watch.listener(i.source) }), `sending from ${i.source}`, all));
  }
  await Promise.all(started);
  const cancelled = i.signal.aborted;
  const outcome = watch.outcome(i.commands.shared, i.commands.perTarget);
  const tail = watch.tail();

  const results: TargetOutcome[] = [];
  if (!cancelled) i.onVerifying();
  for (const t of i.targets) {
    const streamError = failures.get(t.node) ?? outcome.targets[t.node];
    let error = cancelled ? 'cancelled' : streamError ? `${streamError}${tail ? `: ${tail}` : ''}` : await verifyAndPlace(i.remote, t, i.sent);
    if (error) {
      const cleaned = await cleanup(i.remote, t);
      error = `${t.node}: ${error}; ${cleaned}; ${i.source} is untouched.`;
      i.onLog(error);
    }
    results.push(error ? { node: t.node, ok: false, error } : { node: t.node, ok: true });
  }
  return { targets: results, cancelled };
}

/** undefined when the received snapshot is in place; otherwise why not. */
async function verifyAndPlace(remote: ReplicationRemote, t: RunTarget, sent: Pick<Snapshot, 'uuid' | 'receivedUuid'>): Promise<string | undefined> {
  const show = await runText(remote, t.node, showArgv(t.stagedPath), { sudo: true, timeoutMs: 60_000 }).catch((err: unknown) => err as Error);
  if (show instanceof Error) return `could not check the received snapshot: ${show.message}`;
  if (show.code !== 0) return `the received snapshot is missing at ${t.stagedPath}: ${lastText(show.stderr)}`;
  let problem: string | undefined;
  try {
    problem = receivedProblem(parseSubvolumeShow(show.stdout), sent);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem) return `verification failed: ${problem}`;
  const placed = await runText(remote, t.node, finalizeArgv(t.stagedPath, t.finalPath, t.stage), { sudo: true, timeoutMs: 60_000 }).catch((err: unknown) => err as Error);
  if (placed instanceof Error) return `could not move the snapshot into place: ${placed.message}`;
  if (placed.code !== 0) return `could not move the snapshot into place: ${lastText(placed.stderr)}`;
  return undefined;
}

async function cleanup(remote: ReplicationRemote, t: RunTarget): Promise<string> {
  // Not under the transfer's signal: a cancelled transfer must still clean up.
  const r = await runText(remote, t.node, cleanupArgv(t.stage), { sudo: true, timeoutMs: 120_000 }).catch((err: unknown) => err as Error);
  if (r instanceof Error || r.code !== 0) {
    const why = r instanceof Error ? r.message : lastText(r.stderr);
    return `the partial receive in ${t.stage} could not be deleted (${why}); delete it with \`btrfs subvolume delete ${t.stagedPath}\``;
  }
  return 'what was received has been deleted';
}
