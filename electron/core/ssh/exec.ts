import type { Readable, Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { exitOf } from './connection.ts';
import { within } from './within.ts';
import { launchLine, stopGroupArgv } from './remote-command.ts';
import { lastLine, type SudoPassword } from './sudo.ts';

export interface ExecOptions {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  /** Once the command runs: its process group on the host (for the audit log, or `ps`). */
  onStart?(info: { pgid: number }): void;
  /** Aborting stops the remote process group, then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** From the start of the request; on expiry the group is stopped and TIMEOUT thrown. */
  timeoutMs?: number;
  /** When the request started (epoch ms), if before this call: the time limit counts from then. */
  startedAt?: number;
  /** The command needs root: run through sudo unless the host's user is root. */
  sudo?: boolean;
  /** Fed to the command once it has started; without it the command reads an empty stdin. */
  stdin?: Buffer | string | Readable;
  onStdinProgress?(bytes: number): void;
  /**
   * Receives the command's stdout instead of onStdout, with backpressure: the channel stops
   * reading (so the remote side stops being granted window) while the stream is full. Ended
   * when the channel closes, whatever the outcome.
   */
  stdout?: Writable;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
}

/** What a command needs from the connection it runs on. */
export interface ExecChannelSource {
  host: Host;
  /** Opens an exec channel; the slot it takes is given back when the channel closes. */
  openExec(commandLine: string): Promise<ClientChannel>;
}

const MAX_HEAD = 64;

/**
 * Runs argv on a connection as a process group it can stop (see remote-command.ts), streaming
 * stdout and stderr, answering sudo's prompt, and stopping the group on cancel or timeout.
 */
export async function execOnConnection(src: ExecChannelSource, argv: readonly string[], o: ExecOptions, sudo: SudoPassword | undefined): Promise<ExecResult> {
  const { host } = src;
  const deadline = o.timeoutMs === undefined ? undefined : (o.startedAt ?? Date.now()) + o.timeoutMs;
  const cancelled = () => new AppError('CANCELLED', `The command on ${host.name} was cancelled before it started.`);
  if (o.signal?.aborted) throw cancelled();
  // Opening the channel counts against the time limit too: a connection whose far end vanished
  // may never answer the request.
  const channel = await within(src.openExec(launchLine(argv, sudo?.prompt)), deadline === undefined ? undefined : Math.max(1, deadline - Date.now()), () => new AppError('TIMEOUT', `${host.name} did not open a session within ${o.timeoutMs! / 1000} s.`));

  return new Promise<ExecResult>((resolve, reject) => {
    let pgid: number | undefined;
    let head = Buffer.alloc(0);
    let preStart = '';
    let prompts = 0;
    let stopping: 'CANCELLED' | 'TIMEOUT' | undefined;
    let failure: AppError | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      // A command that never started never read its input: close the local file behind it.
      if (pgid === undefined && typeof o.stdin === 'object' && !Buffer.isBuffer(o.stdin)) o.stdin.destroy();
      fn();
    };

    const started = () => {
      o.onStart?.({ pgid: pgid! });
      if (sudo && prompts > 0) void sudo.accepted();
      const rest = preStart.replaceAll(sudo?.prompt ?? '\0', '');
      if (rest) o.onStderr?.(Buffer.from(rest));
      void feedStdin(channel, o).catch(() => undefined);
    };

    const out = (chunk: Buffer) => {
      if (!o.stdout) return o.onStdout?.(chunk);
      if (!o.stdout.write(chunk)) {
        channel.pause();
        o.stdout.once('drain', () => channel.resume());
      }
    };

    // Nobody left to take the output (every relay receiver stopped): the command cannot go on.
    o.stdout?.once('error', (err) => fail(new AppError('REMOTE_FAILED', `The output of the command on ${host.name} could not be delivered: ${err.message}`)));

    channel.on('data', (chunk: Buffer) => {
      if (pgid !== undefined) return out(chunk);
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > MAX_HEAD) fail(new AppError('REMOTE_FAILED', `The command on ${host.name} did not start as expected (no process group id).`));
        return;
      }
      const first = head.subarray(0, nl).toString('latin1');
      if (!/^\d+$/.test(first))
        return fail(new AppError('REMOTE_FAILED', `The shell of ${host.user} on ${host.name} prints text before running commands ("${first.slice(0, 40)}"): remove that output from its startup files (~/.bashrc).`));
      pgid = Number(first);
      if (stopping) return killGroup(stopping);
      const rest = head.subarray(nl + 1);
      started();
      if (rest.length) out(rest);
    });

    channel.stderr.on('data', (chunk: Buffer) => {
      if (pgid !== undefined) return o.onStderr?.(chunk);
      // Before the command starts, stderr belongs to sudo and setsid: kept to find prompts and errors.
      preStart += chunk.toString('utf8');
      if (!sudo) return;
      const seen = preStart.split(sudo.prompt).length - 1;
      while (prompts < seen) {
        prompts++;
        const n = prompts;
        void sudo.forPrompt(n).then((password) => {
          if (password === undefined) fail(sudo.refusal(preStart, null, n));
          else if (channel.writable) channel.write(`${password}\n`);
        });
      }
    });

    channel.on('close', () => {
      o.stdout?.end();
      const exit = exitOf(channel);
      if (stopping && pgid !== undefined) return; // stop() settles once the group is confirmed gone
      if (stopping) return settle(() => reject(new AppError(stopping!, stopping === 'TIMEOUT' ? `The command on ${host.name} did not start within ${o.timeoutMs} ms.` : cancelled().message)));
      if (failure) return settle(() => reject(failure));
      if (pgid === undefined) return settle(() => reject(sudo ? sudo.refusal(preStart, exit.code, prompts) : launchFailure(host, preStart, exit.code)));
      settle(() => resolve(exit));
    });

    const fail = (err: AppError) => {
      failure ??= err;
      channel.close();
    };

    const stop = (kind: 'CANCELLED' | 'TIMEOUT') => {
      if (settled || stopping) return;
      stopping = kind;
      if (pgid !== undefined) return killGroup(kind);
      // Not started yet, but the launcher may be about to print the group id: wait for it rather
      // than leave a command running that nobody watches. A launcher stuck (sudo waiting for a
      // password nobody gives) is hung up on.
      setTimeout(() => pgid === undefined && channel.close(), 5_000).unref();
    };

    const killGroup = (kind: 'CANCELLED' | 'TIMEOUT') => {
      // The channel goes first: it frees its session slot for the kill, and nothing more is read.
      channel.close();
      const group = pgid!;
      const what = kind === 'TIMEOUT' ? `did not finish within ${Math.round((o.timeoutMs ?? 0) / 100) / 10} s` : 'was cancelled';
      execOnConnection(src, stopGroupArgv(group), { timeoutMs: 15_000 }, sudo?.again())
        .then(
          (r) => r.code === 0,
          () => false,
        )
        .then((gone) =>
          settle(() =>
            reject(
              new AppError(
                kind,
                gone
                  ? `The command on ${host.name} ${what}; its processes (group ${group}) were stopped.`
                  : `The command on ${host.name} ${what}, but its processes (group ${group}) could not be confirmed stopped: check with \`ps -g ${group}\` on ${host.name}.`,
                { pgid: group, stopped: gone },
              ),
            ),
          ),
        );
    };

    channel.on('error', (err: Error) => {
      failure ??= new AppError('UNAVAILABLE', `The channel to ${host.name} failed: ${err.message}.`);
    });

    const onAbort = () => stop('CANCELLED');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    if (deadline !== undefined) timer = setTimeout(() => stop('TIMEOUT'), Math.max(0, deadline - Date.now()));
  });
}

function launchFailure(host: Host, stderr: string, code: number | null): AppError {
  if (code === 127 && /setsid/.test(stderr))
    return new AppError('UNAVAILABLE', `setsid is missing on ${host.name}: install util-linux there (it is needed to stop remote commands cleanly).`);
  return new AppError('REMOTE_FAILED', `The command could not start on ${host.name}: ${lastLine(stderr) || `exit code ${code}`}.`);
}

async function feedStdin(channel: ClientChannel, o: ExecOptions): Promise<void> {
  const input = o.stdin;
  if (input === undefined) return void channel.end();
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const data = Buffer.from(input);
    channel.end(data, () => o.onStdinProgress?.(data.length));
    return;
  }
  // A write pending when the channel closes (cancel, lost connection) never calls back.
  const closed = new Promise<never>((_, rej) => channel.once('close', () => rej(new Error('channel closed'))));
  closed.catch(() => undefined);
  let sent = 0;
  try {
    for await (const chunk of input) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      // The write callback fires once ssh2 has the remote window for the chunk: honest progress
      // and backpressure, so a 4 GB ISO is never buffered in memory.
      await Promise.race([new Promise<void>((res, rej) => channel.write(buf, (err) => (err ? rej(err) : res()))), closed]);
      sent += buf.length;
      o.onStdinProgress?.(sent);
    }
    channel.end();
  } finally {
    input.destroy();
  }
}
