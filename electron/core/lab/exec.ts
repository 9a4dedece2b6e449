import { spawn } from 'node:child_process';
import type { RunResult } from '../remote/host.ts';
import { LabError } from './errors.ts';

/** sudo and cron often drop the sbin dirs, where losetup, debootstrap and friends live. */
export const labEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`, LC_ALL: 'C' });

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs a program with an argument array (never a shell string) and collects its output. */
export function runRaw(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? labEnv(),
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new LabError(`${cmd}: command not found`, 'run `lab preflight` to see which package provides it'));
      else reject(e);
    });
    child.on('close', (code, sig) => {
      resolve({
        code: code ?? (sig ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // An EPIPE on stdin only means the program did not read its input; its exit code tells the rest.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a program and throws a LabError with its stderr when it fails. */
export async function run(cmd: string, args: string[], opts: RunOptions & { fix?: string } = {}): Promise<string> {
  const r = await runRaw(cmd, args, opts);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new LabError(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${detail}`, opts.fix ?? 'see the message above; `lab down` cleans up a half-built lab');
  }
  return r.stdout;
}

/** Runs a program where failure is an expected answer (probing, idempotent cleanup). */
export async function tryRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<boolean> {
  try {
    return (await runRaw(cmd, args, opts)).code === 0;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
