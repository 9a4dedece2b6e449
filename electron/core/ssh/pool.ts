import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { HostKeyQuestion } from '../../../shared/ssh.ts';
import type { Secrets } from '../secrets/secrets.ts';
import { openSshShell } from '../terminal/ssh-shell.ts';
import type { TerminalSession } from '../terminal/session.ts';
import { connectHop } from './connect.ts';
import { Connection } from './connection.ts';
import type { AskSecret } from './credentials.ts';
import { execOnConnection, type ExecOptions, type ExecResult } from './exec.ts';
import { KnownHosts } from './known-hosts.ts';
import { readRemoteFile, uploadRemoteFile, writeRemoteFile, type ReadOptions, type UploadOptions, type WriteOptions } from './remote-files.ts';
import { SudoPassword } from './sudo.ts';
import { within } from './within.ts';

export interface SshPoolOptions {
  /** The app's data directory: its known_hosts lives here. */
  home: string;
  getHosts(): Promise<Host[]>;
  secrets: Secrets;
  /** A hop presents an unknown key: true accepts (and saves) it, false rejects it. */
  askHostKey(q: HostKeyQuestion): Promise<boolean>;
  /** A password or passphrase is needed and the keychain has none; undefined = not given. */
  askSecret?: AskSecret;
  /** Default ~/.ssh: default identities and the operator's known_hosts are read from here. */
  sshDir?: string;
  /** OpenSSH known_hosts files read (never written); default ~/.ssh/known_hosts{,2} and /etc/ssh/ssh_known_hosts. */
  knownHostsFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK, null for none. */
  agentSocket?: string | null;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

export interface ConnectionState {
  host: string;
  state: 'up' | 'down';
  error?: string;
}

/** Background callers (the health monitor) must not pop up questions: unknown keys fail instead. */
export interface ConnectOptions {
  interactive?: boolean;
  signal?: AbortSignal;
}

/** The operator's own command line (`icbd exec HOST -- CMD`), run as given by `sh -c`. */
export interface OperatorCommand {
  operatorCommand: string;
}

/** An exec's result with its output collected as text (run, and the node port's runText). */
export interface RunOutput extends ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * One SSH connection per host, opened on first use and shared by every command, file transfer
 * and shell on that host; jump hosts are connections of the pool too, so cache01 and cache02
 * behind imgs share imgs's connection. A dropped connection is reopened by the next request
 * (the health monitor keeps probing with backoff, so hosts come back on their own).
 */
export class SshPool {
  readonly knownHosts: KnownHosts;
  readonly #o: Required<Pick<SshPoolOptions, 'connectTimeoutMs' | 'keepaliveIntervalMs' | 'keepaliveCountMax' | 'sshDir'>> & SshPoolOptions;
  readonly #entries = new Map<string, { key: string; promise: Promise<Connection> }>();
  readonly #live = new Map<string, Connection>();
  readonly #listeners = new Set<(e: ConnectionState) => void>();
  #closed = false;

  constructor(options: SshPoolOptions) {
    const sshDir = options.sshDir ?? join(homedir(), '.ssh');
    this.#o = { connectTimeoutMs: 15_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, ...options, sshDir };
    this.knownHosts = new KnownHosts(
      options.home,
      options.knownHostsFiles ?? [join(sshDir, 'known_hosts'), join(sshDir, 'known_hosts2'), '/etc/ssh/ssh_known_hosts'],
    );
  }

  get secrets(): Secrets {
    return this.#o.secrets;
  }

  /**
   * Runs a command and streams its output. `argv` is the normal path (each word quoted by
   * shared/shell.ts); an OperatorCommand is passed verbatim to `sh -c`. Resolves with the exit
   * code or signal; rejects with CANCELLED or TIMEOUT after stopping the remote processes.
   */
  async exec(hostName: string, cmd: readonly string[] | OperatorCommand, o: ExecOptions = {}): Promise<ExecResult> {
    const argv = 'operatorCommand' in cmd ? ['sh', '-c', cmd.operatorCommand] : cmd;
    if (argv.length === 0) throw new AppError('INVALID_INPUT', 'A command needs a program name.');
    // The command's time limit covers reaching the host too: a jump host that cannot get
    // through (a node rebooting, a cut link) would otherwise hold the caller for minutes.
    const started = Date.now();
    let conn = await within(this.#openConnection(hostName, { signal: o.signal }), o.timeoutMs, () => new AppError('TIMEOUT', `${hostName} could not be reached within ${o.timeoutMs! / 1000} s.`));
    const sudo = o.sudo && conn.host.user !== 'root' ? new SudoPassword(conn.host, this.#o.secrets, this.#o.askSecret) : undefined;
    const source = {
      host: conn.host,
      openExec: async (line: string) => {
        try {
          return await conn.openExec(line);
        } catch (err) {
          // The connection died since it was handed out (keepalive had not noticed yet): one
          // fresh connection, then the error stands.
          if (!conn.closed) throw err;
          conn = await this.#openConnection(hostName, { signal: o.signal });
          return conn.openExec(line);
        }
      },
    };
    return execOnConnection(source, argv, { ...o, startedAt: started }, sudo);
  }

  /** exec, collecting the output as text; a non-zero exit is REMOTE_FAILED unless allowed. */
  async run(hostName: string, argv: readonly string[] | OperatorCommand, o: Omit<ExecOptions, 'onStdout' | 'onStderr'> & { allowFailure?: boolean } = {}): Promise<RunOutput> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const r = await this.exec(hostName, argv, { ...o, onStdout: (b) => out.push(b), onStderr: (b) => err.push(b) });
    const result = { ...r, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
    if (!o.allowFailure && r.code !== 0) {
      const why = result.stderr.trim().split('\n').slice(-3).join(' / ') || (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
      throw new AppError('REMOTE_FAILED', `${'operatorCommand' in argv ? 'The command' : argv[0]} failed on ${hostName}: ${why}`, { code: r.code, signal: r.signal, stderr: result.stderr.slice(-4000) });
    }
    return result;
  }

  readFile(hostName: string, path: string, o: ReadOptions = {}): Promise<Buffer> {
    return readRemoteFile(this, hostName, path, o);
  }

  writeFileAtomic(hostName: string, path: string, data: Buffer | string, o: WriteOptions = {}): Promise<void> {
    return writeRemoteFile(this, hostName, path, data, o);
  }

  upload(hostName: string, localPath: string, remotePath: string, o: UploadOptions = {}): Promise<void> {
    return uploadRemoteFile(this, hostName, localPath, remotePath, o);
  }

  /** The connection's SFTP session (one per connection, opened on first use). */
  async sftp(hostName: string): Promise<SFTPWrapper> {
    return (await this.#openConnection(hostName)).sftp();
  }

  /** An interactive shell on a pty; see terminal/session.ts for flow control. */
  async shell(hostName: string, size: { cols: number; rows: number; term?: string }): Promise<TerminalSession> {
    const conn = await this.#openConnection(hostName);
    const channel = await conn.shell({ term: size.term ?? 'xterm-256color', cols: size.cols, rows: size.rows, width: 0, height: 0 });
    return openSshShell(hostName, channel);
  }

  /** A round trip on the host's connection (opening it if needed), in ms. */
  async ping(hostName: string, o: ConnectOptions & { timeoutMs?: number } = {}): Promise<number> {
    return (await this.#openConnection(hostName, o)).ping(o.timeoutMs ?? 5_000);
  }

  /** Every connection coming up or going down, whoever caused it (keepalive, sshd, network). */
  onConnectionState(fn: (e: ConnectionState) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  isConnected(hostName: string): boolean {
    return this.#live.has(hostName);
  }

  /** Closes the host's connection (and so those of hosts reached through it). */
  disconnect(hostName: string): void {
    this.#live.get(hostName)?.close();
  }

  close(): void {
    this.#closed = true;
    for (const conn of this.#live.values()) conn.close();
    this.#entries.clear();
  }

  async #openConnection(name: string, o: ConnectOptions = {}): Promise<Connection> {
    const conn = await this.#connection(name, name, [], o.interactive ?? true);
    if (o.signal?.aborted) throw new AppError('CANCELLED', `Cancelled before anything ran on ${name}.`);
    return conn;
  }

  async #connection(name: string, target: string, path: string[], interactive: boolean): Promise<Connection> {
    if (this.#closed) throw new AppError('UNAVAILABLE', 'The SSH connections are closed (the app is shutting down).');
    if (path.includes(name)) throw new AppError('INVALID_INPUT', `The jump chain ${[...path, name].join(' → ')} loops; fix the jump hosts in the inventory.`);
    const hosts = await this.#o.getHosts();
    const host = hosts.find((h) => h.name === name);
    if (!host) throw new AppError('NOT_FOUND', path.length ? `The jump host ${name} of ${path.at(-1)} is not in the inventory.` : `There is no host named ${name} in the inventory.`);
    // A host edited in the inventory (address, user, key, jump) must not reuse the old connection.
    const key = JSON.stringify([host.address, host.port, host.user, host.identityFile ?? '', host.jump ?? '']);
    for (;;) {
      const entry = this.#entries.get(name);
      if (!entry) break;
      if (entry.key === key) {
        const conn = await entry.promise.catch(() => undefined);
        if (conn && !conn.closed) return conn;
      }
      if (this.#entries.get(name) === entry) {
        this.#entries.delete(name);
        if (entry.key !== key) (await entry.promise.catch(() => undefined))?.close();
      }
    }
    const promise = this.#dial(host, target, path, interactive);
    this.#entries.set(name, { key, promise });
    promise.catch(() => {
      if (this.#entries.get(name)?.promise === promise) this.#entries.delete(name);
    });
    return promise;
  }

  async #dial(host: Host, target: string, path: string[], interactive: boolean): Promise<Connection> {
    const via = host.jump ? await this.#connection(host.jump, target, [...path, host.name], interactive) : undefined;
    const o = this.#o;
    const sock = via
      ? await within(forwardTo(via, host), o.connectTimeoutMs, () => new AppError('TIMEOUT', `${host.name} cannot be reached: ${via.host.name} got no connection to ${host.address}:${host.port} within ${o.connectTimeoutMs / 1000} s.`))
      : undefined;
    const client = await connectHop({
      host,
      target,
      ...(via && sock ? { via: { name: via.host.name, sock } } : {}),
      knownHosts: this.knownHosts,
      ...(interactive ? { askHostKey: o.askHostKey } : {}),
      secrets: o.secrets,
      ...(o.askSecret && interactive ? { askSecret: o.askSecret } : {}),
      ...(agentSocket(o.agentSocket) ? { agentSocket: agentSocket(o.agentSocket)! } : {}),
      sshDir: o.sshDir,
      connectTimeoutMs: o.connectTimeoutMs,
      keepaliveIntervalMs: o.keepaliveIntervalMs,
      keepaliveCountMax: o.keepaliveCountMax,
    });
    const conn = new Connection(host, client);
    // Through a jump host the transport is a forwarded channel. When the far end goes away (a
    // node rebooting), the jump host's sshd reports EOF on that channel and nothing more: ssh2
    // sees no socket close, and its keepalives go into the half-closed channel unanswered.
    sock?.once('end', () => conn.lost(`${via!.host.name} reports that the connection to ${host.name} ended`));
    this.#live.set(host.name, conn);
    conn.onClose((reason) => {
      if (this.#live.get(host.name) === conn) this.#live.delete(host.name);
      this.#emit({ host: host.name, state: 'down', ...(reason ? { error: reason } : {}) });
    });
    this.#emit({ host: host.name, state: 'up' });
    return conn;
  }

  #emit(e: ConnectionState): void {
    for (const fn of this.#listeners) fn(e);
  }
}

function agentSocket(option: string | null | undefined): string | undefined {
  if (option === null) return undefined;
  return option ?? process.env.SSH_AUTH_SOCK ?? undefined;
}

/** The next hop's stream; its failure names the host the operator asked for, not only the hop. */
async function forwardTo(via: Connection, host: Host) {
  try {
    return await via.forward(host.address, host.port);
  } catch (err) {
    const e = err instanceof AppError ? err : new AppError('UNAVAILABLE', (err as Error).message);
    throw new AppError(e.code, `${host.name} cannot be reached: ${e.message}`, e.detail);
  }
}

