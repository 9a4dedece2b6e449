import { Readable } from 'node:stream';
import { AppError } from '../../../shared/errors.ts';
import { command } from '../../../shared/shell.ts';
import { runText, type NodeRemote } from './node.ts';

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

// The staged copy sits next to the file (same filesystem, so the rename is atomic) and takes the
// old file's mode and owner; a new file gets `mode`.
const STAGE = 'set -e; t="$1.icbd-new"; cat > "$t"; if [ -e "$1" ]; then chmod --reference="$1" "$t"; chown --reference="$1" "$t"; else chmod "$2" "$t"; fi';

/** File operations over `run`; the paths come from role data, never from the operator. */
export const files = {
  /** Writes `content` beside `path` and returns the staged path; `commit` renames it over `path`. */
  async stage(remote: Remote, path: string, content: string, mode = '644'): Promise<string> {
    await runChecked(remote, ['sh', '-c', STAGE, 'sh', path, mode], { stdin: content });
    return `${path}.icbd-new`;
  },
  async commit(remote: Remote, staged: string, path: string): Promise<void> {
    await runChecked(remote, ['mv', '-f', '--', staged, path]);
  },
  /**
   * Truncates and rewrites the same inode. The only safe write for a bind-mounted file or a bind
   * source: a rename fails on the target ("Device or resource busy") and silently detaches the
   * source (LAB-NOTES).
   */
  async writeInPlace(remote: Remote, path: string, content: string): Promise<void> {
    await runChecked(remote, ['sh', '-c', 'cat > "$1"', 'sh', path], { stdin: content });
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
