import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, PseudoTtyOptions, SFTPWrapper } from 'ssh2';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';

// sshd's MaxSessions defaults to 10 session channels per connection (exec, shell, sftp); one
// more is refused with "open failed". Queueing at 9 keeps one free for the command that stops
// a cancelled one. Forwarded channels (jump hops) do not count.
const MAX_SESSIONS = 9;

/** One authenticated connection to a host, shared by everything that talks to that host. */
export class Connection {
  #closed = false;
  #closeReason: string | undefined;
  #sessions = 0;
  #waiting: (() => void)[] = [];
  #sftp: Promise<SFTPWrapper> | undefined;
  readonly #onClose: ((reason: string | undefined) => void)[] = [];

  constructor(
    readonly host: Host,
    readonly client: Client,
  ) {
    client.on('error', (err: Error & { level?: string }) => {
      this.#closeReason ??= err.level === 'client-timeout' ? 'no answer to keepalives: the host or the network stopped responding' : err.message;
    });
    client.on('close', () => this.#dead());
  }

  /** The transport is gone though ssh2 has not noticed: declared dead, so the pool dials anew. */
  lost(reason: string): void {
    this.#dead(reason);
    this.client.destroy();
  }

  /** Once, whoever notices first: ssh2's close, or a request that found the socket gone. */
  #dead(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason ??= reason;
    for (const fn of this.#onClose) fn(this.#closeReason);
    for (const wake of this.#waiting.splice(0)) wake();
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(fn: (reason: string | undefined) => void): void {
    if (this.#closed) fn(this.#closeReason);
    else this.#onClose.push(fn);
  }

  close(): void {
    this.#closeReason ??= 'closed by the app';
    this.client.end();
  }

  openExec(commandLine: string): Promise<ClientChannel> {
    return this.#session((cb) =>
      this.client.exec(commandLine, (err, channel) => {
        if (channel) recordExit(channel);
        cb(err, channel);
      }),
    );
  }

  shell(pty: PseudoTtyOptions): Promise<ClientChannel> {
    return this.#session((cb) => this.client.shell(pty, cb));
  }

  sftp(): Promise<SFTPWrapper> {
    this.#sftp ??= this.#session<SFTPWrapper>((cb) => this.client.sftp(cb)).catch((err: unknown) => {
      this.#sftp = undefined;
      throw err;
    });
    return this.#sftp;
  }

  /** A TCP stream from this host to address:port: how the next hop of a jump chain is reached. */
  forward(address: string, port: number): Promise<Duplex> {
    this.#assertOpen();
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
        if (err)
          reject(
            new AppError(
              'UNAVAILABLE',
              `${this.host.name} could not open a connection to ${address}:${port} (${err.message}): check that the host is up and that sshd on ${this.host.name} allows TCP forwarding (AllowTcpForwarding).`,
            ),
          );
        else resolve(stream);
      });
    });
  }

  /**
   * A round trip on this connection, in ms. ssh2 has no public ping; cancelling a port forward
   * that was never requested is a global request every server answers (with a refusal) and that
   * changes nothing, so its reply time is the latency of the connection itself.
   */
  ping(timeoutMs: number): Promise<number> {
    this.#assertOpen();
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new AppError('TIMEOUT', `${this.host.name} did not answer a ping within ${timeoutMs / 1000} s.`));
        this.client.destroy();
      }, timeoutMs);
      try {
        this.client.unforwardIn('icbd-ping.invalid', 1, () => {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        });
      } catch (err) {
        // "Not connected": the socket died before ssh2 noticed (it emits no close for it), so the
        // connection is declared dead here and the next request dials again.
        clearTimeout(timer);
        this.#dead((err as Error).message);
        this.client.destroy();
        reject(new AppError('UNAVAILABLE', `${this.host.name} is not connected (${(err as Error).message}).`));
      }
    });
  }

  async #session<T extends ClientChannel | SFTPWrapper>(open: (cb: (err: Error | undefined, ch: T) => void) => void): Promise<T> {
    while (this.#sessions >= MAX_SESSIONS && !this.#closed) await new Promise<void>((wake) => this.#waiting.push(wake));
    this.#assertOpen();
    this.#sessions++;
    const release = () => {
      this.#sessions--;
      this.#waiting.shift()?.();
    };
    return new Promise<T>((resolve, reject) => {
      const opened = (err: Error | undefined, ch: T) => {
        if (err) {
          release();
          reject(
            new AppError(
              'UNAVAILABLE',
              `${this.host.name} refused a new session (${err.message}): its sshd may limit sessions (MaxSessions) or forbid this user a shell.`,
            ),
          );
          return;
        }
        ch.once('close', release);
        resolve(ch);
      };
      try {
        open(opened);
      } catch (err) {
        // ssh2 throws "Not connected" when the socket died without a close: declare it dead, so
        // the pool stops handing this connection out.
        this.#dead((err as Error).message);
        this.client.destroy();
        opened(err as Error, undefined as unknown as T);
      }
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError('UNAVAILABLE', `The connection to ${this.host.name} is closed${this.#closeReason ? ` (${this.#closeReason})` : ''}.`);
  }
}

const exits = new WeakMap<ClientChannel, { code: number | null; signal: string | null }>();

/**
 * ssh2 emits a channel's 'exit' once, and a fast command behind a jump host can deliver its exit
 * status in the same read as the exec reply: before whoever awaits the channel has attached a
 * listener. So the status is caught here, in the exec callback itself.
 */
function recordExit(channel: ClientChannel): void {
  channel.once('exit', (code: number | null, signal?: string) => exits.set(channel, { code: code ?? null, signal: signal ?? null }));
}

/** The exit status of an exec channel, once it has arrived. */
export function exitOf(channel: ClientChannel): { code: number | null; signal: string | null } {
  return exits.get(channel) ?? { code: null, signal: null };
}
