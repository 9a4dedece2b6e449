import { setTimeout as sleep } from 'node:timers/promises';
import { lastText, parseHash, parseReceiverState, receiverStateArgv, sendPrefixHashArgv, stagedHashArgv, type ReceiverState } from '../replication/commands.ts';
import { sendArgv, type PipelineSpec } from '../replication/pipeline.ts';
import type { RunTarget } from '../replication/planner.ts';
import { runText, type NodeRemote } from '../remote/node.ts';

/**
 * Where a push starts: from what each receiver already holds of the same stream (a cut link, a
 * restart, a console that went away), or from the beginning. A staged prefix counts only when
 * the stream made again on the source hashes alike over those bytes: the same snapshot against
 * the same parent (the staging file is named by both identities) gives the same stream; anything
 * else is said and starts over.
 */
export async function resumePoint(o: {
  remote: NodeRemote;
  source: string;
  spec: PipelineSpec;
  targets: readonly RunTarget[];
  onLog(line: string): void;
}): Promise<PipelineSpec> {
  const staged = new Map<string, number>();
  await Promise.all(
    o.targets.map(async (t) => {
      // A receive of ours still holding its lock has lost its sender: stopped, its bytes kept.
      const state = await receiverState(o.remote, t, true);
      if (t.stagingPath !== undefined && state.staged) staged.set(t.node, state.staged);
    }),
  );
  const prefixes = new Map<number, string | null>();
  for (const [node, bytes] of staged) {
    const t = o.targets.find((x) => x.node === node)!;
    if (!prefixes.has(bytes)) prefixes.set(bytes, parseHash((await runOk(o.remote, o.source, sendPrefixHashArgv(sendArgv(o.spec.snapshotPath, o.spec.parentPath), bytes), 'hashing the stream again on the source')).stdout));
    const theirs = parseHash((await runOk(o.remote, node, stagedHashArgv(t.stagingPath!, bytes), `hashing the staged stream on ${node}`)).stdout);
    const ours = prefixes.get(bytes);
    if (ours && theirs === ours) {
      o.onLog(`${node} holds the first ${bytes} bytes of this stream (sha256 ${ours.slice(0, 12)}… on both ends): resuming from there.`);
      continue;
    }
    o.onLog(`${node}'s staged ${bytes} bytes are not the start of this stream as ${o.source} sends it now (${ours ? 'the snapshot or its parent changed' : 'it could not be sent again'}): starting over.`);
    staged.delete(node);
  }
  const have = (node: string) => staged.get(node) ?? 0;
  const skip = Math.min(...o.spec.targets.map((t) => have(t.node)));
  return { ...o.spec, skip, targets: o.spec.targets.map((t) => ({ ...t, staged: have(t.node) })) };
}

/** What `t` holds of the transfer; with `stop`, a receive of it still running there is stopped first. */
export async function receiverState(remote: NodeRemote, t: RunTarget, stop = false): Promise<ReceiverState> {
  return parseReceiverState((await runOk(remote, t.node, receiverStateArgv(t.finalPath, t.stagingPath, t.lockPath, stop), `reading what ${t.node} holds`)).stdout);
}

async function runOk(remote: NodeRemote, node: string, argv: string[], what: string) {
  const r = await runText(remote, node, argv, { sudo: true, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${what} on ${node} failed: ${lastText(r.stderr) || `exit code ${r.code}`}`);
  return r;
}

/**
 * Waits until every node answers again with `path` there (the source's snapshot, a receiver's
 * repository: a node that restarted is back once its filesystems are mounted, not at its first
 * login), checked every 10 s, until `deadline`: true when they all do, false when time ran out or
 * the transfer was cancelled.
 */
export async function untilReachable(remote: NodeRemote, nodes: readonly { node: string; path: string }[], deadline: number, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    const answers = await Promise.all(nodes.map((n) => runText(remote, n.node, ['test', '-d', n.path], { sudo: true, timeoutMs: 15_000, signal }).then((r) => r.code === 0, () => false)));
    if (answers.every(Boolean)) return true;
    if (signal.aborted || Date.now() >= deadline) return false;
    await sleep(Math.min(10_000, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return false;
  }
}
