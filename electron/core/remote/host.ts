import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.ts';
import { command } from '../../../shared/shell.ts';
import { runText, type NodeRemote } from './node.ts';
import { WRITE_FSTAB_REJECTED, writeArgv } from '../ssh/remote-command.ts';

/**
 * One host of the node port, as the installer sees it (hostRemote, which runs every command as
 * root through sudo for a login that is not root): the remote side executes `command(argv)`
 * (shared/shell.ts) with stdin fed and closed, and reports the exit code. Everything else
 * (reading state, writing files) is built on `run` so a fake host in tests is one function.
 */
export interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Remote {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** `host` of the node port, every command as root (sudo unless the login is root). */
export function hostRemote(node: NodeRemote, host: string): Remote {
  return {
    run: async (argv, o = {}) => {
      const r = await runText(node, host, argv, {
        sudo: true,
        ...(o.stdin !== undefined && { stdin: Readable.from([Buffer.from(o.stdin)]) }),
        ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }),
        ...(o.signal && { signal: o.signal }),
      });
      // killed by a signal: no exit status, and any non-zero code reads as failed
      return { code: r.code ?? 255, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Runs and throws REMOTE_FAILED on a non-zero exit, with the command line and its stderr. */
export async function runChecked(remote: Remote, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const result = await remote.run(argv, opts);
  if (result.code !== 0) {
    const err = result.stderr.trim() || result.stdout.trim();
    throw new AppError('REMOTE_FAILED', `${command(argv)} failed (exit ${result.code})${err ? `: ${err}` : ''}`, {
      command: command(argv),
      code: result.code,
      stderr: result.stderr,
    });
  }
  return result;
}

/** File operations over `run`; the paths come from role data, never from the operator. */
export const files = {
  /**
   * Writes `content` whole or not at all, with the project's size-checked, synced writer
   * (ssh/remote-command.ts): renamed into place, or for a bind-mounted file or a bind source
   * (`inPlace`), copied over its inode once all of it has arrived. `fstab`: findmnt --verify must
   * accept the new file first, or nothing changes (INVALID_INPUT).
   */
  async write(remote: Remote, path: string, content: string, o: { mode?: string; inPlace?: boolean; fstab?: boolean } = {}): Promise<void> {
    const argv = writeArgv(path, Buffer.byteLength(content), parseInt(o.mode ?? '644', 8), { inPlace: o.inPlace ?? false, fstab: o.fstab ?? false });
    const r = await remote.run(argv, { stdin: content });
    if (r.code === WRITE_FSTAB_REJECTED) throw new AppError('INVALID_INPUT', r.stderr.trim());
    if (r.code !== 0) {
      const why = r.stderr.trim() || r.stdout.trim();
      throw new AppError('REMOTE_FAILED', `Could not write ${path}${why ? `: ${why}` : ''}; it was left as it was.`, { code: r.code, stderr: r.stderr });
    }
  },
  async backup(remote: Remote, path: string, stamp: string): Promise<string> {
    const to = `${path}.icbd-${stamp}`;
    await runChecked(remote, ['cp', '-a', '--', path, to]);
    return to;
  },
};

/** 20240131-142530: sortable, no characters a shell or a path would mind. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
