import { spawn } from 'node:child_process';
import { AppError } from '../shared/errors.ts';
import type { RemoteExecOptions, RemoteExecResult, NodeRemote } from '../electron/core/remote/node.ts';

/**
 * Runs a node's argv on this machine: every "node" is the local host. The lab tests and the
 * benchmarks drive the real pipelines through it between local btrfs filesystems, without SSH.
 * Like the SSH layer, each command leads its own process group, and a cancel stops the group.
 */
export class LocalRemote implements NodeRemote {
  readonly pipesStdout = true;

  exec(_host: string, argv: readonly string[], o: RemoteExecOptions = {}): Promise<RemoteExecResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new AppError('INVALID_INPUT', 'A command needs a program name.'));
    if (o.signal?.aborted) return Promise.reject(new AppError('CANCELLED', 'Cancelled before it started.'));
    const child = spawn(file, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    if (o.stdout) child.stdout.pipe(o.stdout);
    else child.stdout.on('data', (b: Buffer) => o.onStdout?.(b));
    child.stderr.on('data', (b: Buffer) => o.onStderr?.(b));
    child.stdin.on('error', () => undefined);
    if (o.stdin) o.stdin.pipe(child.stdin);
    else child.stdin.end();
    let stopped: 'CANCELLED' | 'TIMEOUT' | undefined;
    const stop = (kind: 'CANCELLED' | 'TIMEOUT') => {
      stopped = kind;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    const onAbort = () => stop('CANCELLED');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => stop('TIMEOUT'), o.timeoutMs);
    return new Promise((resolve, reject) => {
      child.on('error', (err) => reject(new AppError('REMOTE_FAILED', `${file} could not start: ${err.message}`)));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (stopped) reject(new AppError(stopped, `${file} was ${stopped === 'TIMEOUT' ? 'stopped after its time limit' : 'cancelled'}.`));
        else resolve({ code, signal });
      });
    });
  }
}
