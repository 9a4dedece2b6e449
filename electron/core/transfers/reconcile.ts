import { command } from '../../../shared/shell.ts';
import { parseSubvolumeShow, receivedProblem, snapshotPath, type Snapshot } from '../../../shared/snapshots.ts';
import { isTransferFinished, type PushRecord } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';
import { parseHash, sendPrefixHashArgv, stagedHashArgv } from '../replication/commands.ts';
import { receiveLockPath, sendArgv, stagingPath } from '../replication/pipeline.ts';
import type { RunTarget } from '../replication/planner.ts';
import { runText, type HostChange, type NodeRemote } from '../remote/node.ts';
import { receiverState } from './resume.ts';
import { removeReceived } from './runner.ts';

/** What a receiver holds of a push whose console went away. */
export type Found =
  | { state: 'done' }
  /** Its receive still runs (a direct pipeline outlived the console). */
  | { state: 'running' }
  /** Part of the stream is staged: a resume goes on from there. */
  | { state: 'partial'; staged: number }
  /** Nothing of it, or nothing the push can prove its own. */
  | { state: 'absent'; detail: string };

/**
 * Reads one receiver of an interrupted push. A received snapshot counts only when its staged
 * stream is the whole stream: the source makes it again and hashes its first staged + 1 bytes,
 * which equal the staged file's hash only when the stream has exactly the staged bytes.
 */
export async function inspectTarget(o: {
  remote: NodeRemote;
  source: string;
  send: readonly string[];
  target: RunTarget;
  sent: Pick<Snapshot, 'uuid' | 'receivedUuid'>;
  transferId: string;
  onChange?: (c: HostChange) => void;
}): Promise<Found> {
  const t = o.target;
  const held = await receiverState(o.remote, t);
  if (held.busy) return { state: 'running' };
  const received = held.subvolume !== null && receivedProblem(parseSubvolumeShow(held.subvolume), o.sent) === undefined;
  if (received && held.staged === null) return { state: 'done' };
  if (held.staged === null && held.subvolume === null) return { state: 'absent', detail: `nothing of it is on ${t.node}` };
  // Nothing staged to resume from (a fast link, no room): the partial receive goes, if the snapshot's lock says it is this push's.
  if (held.staged === null) return { state: 'absent', detail: `${t.finalPath} on ${t.node} is not a complete receive and nothing was staged beside it: ${await removeReceived(o.remote, t, o.transferId, o.onChange)}` };
  if (received && t.stagingPath !== undefined) {
    const [whole, staged] = await Promise.all([
      runText(o.remote, o.source, sendPrefixHashArgv(o.send, held.staged + 1), { sudo: true, timeoutMs: 3_600_000 }),
      runText(o.remote, t.node, stagedHashArgv(t.stagingPath, held.staged), { sudo: true, timeoutMs: 3_600_000 }),
    ]);
    const ours = parseHash(whole.stdout);
    if (ours !== null && ours === parseHash(staged.stdout)) {
      await runText(o.remote, t.node, ['rm', '-f', t.stagingPath], { sudo: true, timeoutMs: 60_000 });
      return { state: 'done' };
    }
  }
  return { state: 'partial', staged: held.staged };
}

export interface ReconcileDeps {
  remote: NodeRemote;
  /** A node's repository root, as its settings say now. */
  root(node: string): Promise<string>;
  /** The source's snapshot of the push, as it is now; undefined when it is gone. */
  snapshot(source: string, image: string, number: number): Promise<Snapshot | undefined>;
  /** Writes the record (the history) and tells the doors. */
  save(r: PushRecord): Promise<void>;
  log(id: string, line: string): void;
  onChange(c: HostChange): void;
  /** Between two looks at a receive still running without its console. */
  pause(): Promise<void>;
}

/** The paths a push's receivers were given, and its stream made again on the source (as the planner made them). */
async function layout(d: ReconcileDeps, r: PushRecord, uuid: string): Promise<{ targets: RunTarget[]; send: string[] }> {
  const targets = await Promise.all(
    r.targets.map(async (t): Promise<RunTarget> => {
      const root = await d.root(t.node);
      return {
        node: t.node,
        finalPath: snapshotPath(root, r.image, r.number),
        lockPath: receiveLockPath(r.id, t.node),
        stagingPath: stagingPath(root, r.image, r.number, uuid, r.parentUuid ?? null),
      };
    }),
  );
  const sourceRoot = await d.root(r.source);
  return { targets, send: sendArgv(snapshotPath(sourceRoot, r.image, r.number), r.parentNumber === null ? null : snapshotPath(sourceRoot, r.image, r.parentNumber)) };
}

/**
 * A push whose console went away, checked against its receivers: arrived and verified is done, a
 * receive still running is watched until it ends, part of the stream staged is resumable
 * (`transfers.resume`), nothing is failed. Never done what did not arrive, nor failed what did.
 */
export async function reconcilePush(d: ReconcileDeps, orphan: PushRecord): Promise<void> {
  const uuid = orphan.uuid;
  if (!uuid) return;
  const settle = async (patch: Partial<PushRecord>) => {
    const { error: _old, waiting: _w, ...rest } = r;
    r = { ...rest, ...patch, rate: null, etaSeconds: null };
    if (isTransferFinished(r.state)) r.endedAt = Date.now();
    await d.save(r);
  };
  let r = orphan;
  await settle({ state: 'verifying', error: { code: 'UNAVAILABLE', message: `Its console (the process that ran it) went away: checking what arrived on ${orphan.targets.map((t) => t.node).join(', ')}.` } });
  d.log(r.id, `reconciling: the process that ran this transfer is gone; checking ${r.targets.map((t) => t.node).join(', ')}`);
  const { targets, send } = await layout(d, r, uuid);
  const snap = await d.snapshot(r.source, r.image, r.number);
  const found = new Map<string, Found>();
  for (const t of targets) {
    if (r.targets.find((x) => x.node === t.node)?.state === 'done') {
      found.set(t.node, { state: 'done' });
      continue;
    }
    for (;;) {
      const f: Found = snap && snap.uuid === uuid ? await inspectTarget({ remote: d.remote, source: r.source, send, target: t, sent: snap, transferId: r.id, onChange: d.onChange }) : { state: 'absent', detail: `${r.source} no longer has this ${r.image}@${r.number}` };
      if (f.state !== 'running') {
        found.set(t.node, f);
        break;
      }
      // A direct pipeline that outlived its console: watched until it ends, then read again.
      if (r.state !== 'running') await settle({ state: 'running', waiting: `Still receiving on ${t.node} without its console: watching it until it ends.` });
      await d.pause();
    }
  }
  const partial = [...found].filter(([, f]) => f.state === 'partial');
  const absent = [...found].filter(([, f]) => f.state === 'absent');
  for (const [node, f] of found) {
    d.log(r.id, `${node}: ${f.state === 'done' ? 'the snapshot arrived complete and verified' : f.state === 'partial' ? `${f.staged} bytes of the stream are staged` : f.state === 'absent' ? f.detail : f.state}`);
    if (f.state === 'done' && orphan.targets.find((x) => x.node === node)?.state !== 'done')
      d.onChange({ host: node, action: 'replication.receive', command: command(send), result: 'ok', detail: `${r.image}@${r.number} from ${r.source}: found complete and verified after its console went away` });
  }
  const targetsNow = r.targets.map((t) => (found.get(t.node)?.state === 'done' ? { node: t.node, state: 'done' as const } : t));
  if (partial.length === 0 && absent.length === 0) return settle({ state: 'done', targets: targetsNow, fraction: r.totalBytes === null ? null : 1, bytes: r.totalBytes ?? r.bytes });
  const staged = partial.map(([n, f]) => `${n} holds ${f.state === 'partial' ? formatBytes(f.staged) : ''}${r.totalBytes ? ` of about ${formatBytes(r.totalBytes)}` : ''}`);
  const message = [
    'Interrupted: its console (the process that ran it) went away.',
    ...(staged.length ? [`${staged.join('; ')}: resume it (\`icbd transfers resume ${r.id.slice(0, 8)}\`, or Resume in the monitor) to send only the rest.`] : []),
    ...absent.map(([n, f]) => `${n}: ${f.state === 'absent' ? f.detail : ''}; push again.`),
  ].join('\n');
  await settle({ state: 'failed', targets: targetsNow, resumable: partial.length > 0, error: { code: 'UNAVAILABLE', message } });
}
