import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunOutput, SshPool } from '../ssh/pool.ts';

/**
 * The core's one way to a node: run an argv there, streaming. Replication, uploads and the
 * installer (through host.ts's view of one host) all go through it. SshPool.exec has this shape
 * (nodeRemote below); test/local-remote.ts runs the same argv on this machine for the tests and
 * the benchmarks.
 */
export interface RemoteExecOptions {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The command needs root: run through sudo unless the node's user is root. */
  sudo?: boolean;
  /** Fed to the command with backpressure. */
  stdin?: Readable;
  /** Receives the command's stdout with backpressure (relay mode); replaces onStdout. */
  stdout?: Writable;
}

export interface RemoteExecResult {
  code: number | null;
  signal: string | null;
}

export interface NodeRemote {
  exec(host: string, argv: readonly string[], o?: RemoteExecOptions): Promise<RemoteExecResult>;
  /** Whether `stdout` is honoured (relay mode needs it). */
  readonly pipesStdout: boolean;
}

/** Every node over the SSH pool; the pool pipes stdout, so relay mode works. */
export function nodeRemote(pool: SshPool): NodeRemote {
  return { exec: (host, argv, opts) => pool.exec(host, argv, opts), pipesStdout: true };
}

/** A change made to a node (snapshot, delete, receive, clean-up), for the audit log. */
export interface HostChange {
  host: string;
  action: string;
  command: string;
  result: 'ok' | 'failed' | 'cancelled';
  detail?: string;
  ms?: number;
}

/** exec collecting the output as text. */
export async function runText(remote: NodeRemote, host: string, argv: readonly string[], o: Omit<RemoteExecOptions, 'onStdout' | 'onStderr' | 'stdout'> = {}): Promise<RunOutput> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const r = await remote.exec(host, argv, { ...o, onStdout: (b) => out.push(b), onStderr: (b) => err.push(b) });
  return { ...r, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** How long a node out of reach is tried again by a clean-up. */
const CLEANUP_RETRY_MS = 180_000;

/**
 * A clean-up after a failed or cancelled transfer: not under the transfer's signal (a cancelled
 * transfer must still clean up), and tried again every 5 s for a while when the node cannot be
 * reached (the link that failed the transfer): what it holds stays half-written otherwise. The
 * last error is returned, for the caller to say what is left.
 */
export async function runCleanup(remote: NodeRemote, host: string, argv: readonly string[]): Promise<RunOutput | Error> {
  const t0 = Date.now();
  for (;;) {
    const r = await runText(remote, host, argv, { sudo: true, timeoutMs: 60_000 }).catch((err: unknown) => err as Error);
    if (!(r instanceof Error) || Date.now() - t0 > CLEANUP_RETRY_MS) return r;
    await sleep(5_000);
  }
}
