/**
 * The SSH core against real OpenSSH servers on 127.0.0.1: host keys, every kind of credential
 * (the secrets in a real GNOME Keyring), exec with cancel and timeout, jump chains, files,
 * terminals and health. Runs as root (CI); needs openssh-server, sudo, dbus, gnome-keyring.
 *
 * The keyring: a private dbus-daemon and gnome-keyring-daemon (test/keyring-session.ts), whose
 * bus address is set for this process before the keychain is first used. Nothing touches the
 * machine's own sshd, /root/.ssh or keyring.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecrets } from '../../electron/core/secrets/keychain.ts';
import { NoSecrets } from '../../electron/core/secrets/none.ts';
import { accounts, type Secrets } from '../../electron/core/secrets/secrets.ts';
import { cryptoBindingAvailable } from '../../electron/core/ssh/algorithms.ts';
import { proposeHostsFromSshConfig } from '../../electron/core/ssh/config-import.ts';
import { HealthMonitor } from '../../electron/core/ssh/health.ts';
import { SshPool, type SshPoolOptions } from '../../electron/core/ssh/pool.ts';
import { readSshConfig } from '../../electron/core/ssh/ssh-config.ts';
import { openLocalShell } from '../../electron/core/terminal/local-shell.ts';
import type { TerminalSession } from '../../electron/core/terminal/session.ts';
import type { Host } from '../../shared/inventory.ts';
import type { HostHealth, HostKeyQuestion, SecretQuestion } from '../../shared/ssh.ts';
import { KeyringSession } from '../keyring-session.ts';
import { tempDirs } from '../temp-dirs.ts';

const TEST_USER = 'icbdtest';
const SUDOERS = `/etc/sudoers.d/${TEST_USER}-lab-test`;

const dirs = tempDirs('ssh-core', ['work']);
const started: ChildProcess[] = [];
const pools: SshPool[] = [];
let secrets: Secrets;
let keyring: KeyringSession | undefined;
let userPassword = '';

// ---------------------------------------------------------------- helpers: processes, keys, sshd

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function keygen(name: string, passphrase = ''): { path: string; pub: string; fingerprint: string } {
  const path = join(dirs.work, name);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]);
  return { path, pub: readFileSync(`${path}.pub`, 'utf8'), fingerprint: sh('ssh-keygen', ['-l', '-f', `${path}.pub`]).split(' ')[1]! };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

// Every process below `pid` (sshd forks one session leader per connection, outside its group).
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

// A zombie is not alive: it holds nothing, and this container's init reaps orphans lazily.
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

function signalTree(pid: number, sig: NodeJS.Signals): void {
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(p, sig);
    } catch {
      // gone
    }
  }
}

class Sshd {
  proc!: ChildProcess;
  readonly log: string;
  constructor(
    readonly name: string,
    readonly port: number,
    readonly hostKey: { path: string; fingerprint: string },
  ) {
    this.log = join(dirs.work, `${name}.log`);
  }

  async start(): Promise<this> {
    const config = join(dirs.work, `${this.name}.conf`);
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${this.hostKey.path}`,
        'PidFile none',
        `AuthorizedKeysFile ${dirs.work}/authorized_keys.%u`,
        // The temp dir lives under /tmp (world-writable): StrictModes would refuse the keys.
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin yes',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        `AllowUsers root ${TEST_USER}`,
        'AllowTcpForwarding yes',
        'LogLevel DEBUG1',
        'Subsystem sftp internal-sftp',
      ].join('\n') + '\n',
    );
    this.proc = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', this.log], { detached: true, stdio: 'ignore' });
    started.push(this.proc);
    await waitFor(`sshd ${this.name} on port ${this.port}`, () => listening(this.port));
    return this;
  }

  /** Kills the listener and every connection it forked. */
  async kill(): Promise<void> {
    const pid = this.proc.pid!;
    signalTree(pid, 'SIGKILL');
    await waitFor(`sshd ${this.name} to exit`, async () => !alive(pid) && !(await listening(this.port)));
  }

  mark(): number {
    return existsSync(this.log) ? statSync(this.log).size : 0;
  }

  since(mark: number): string {
    return readFileSync(this.log, 'utf8').slice(mark);
  }
}

// ---------------------------------------------------------------- the fixture

let clientKey: ReturnType<typeof keygen>;
let hostKeyA: ReturnType<typeof keygen>;
let hostKeyB: ReturnType<typeof keygen>;
let sshdA: Sshd;
let sshdB: Sshd;

const host = (name: string, sshd: Sshd, extra: Partial<Host> = {}): Host => ({
  name,
  address: '127.0.0.1',
  port: sshd.port,
  user: 'root',
  role: name === 'imgs' ? 'imgs' : 'cache',
  identityFile: clientKey.path,
  ...extra,
});

function pool(hosts: Host[], o: Partial<SshPoolOptions> & { home?: string } = {}): SshPool {
  const p = new SshPool({
    home: o.home ?? mkdtempSync(join(dirs.work, 'home-')),
    getHosts: async () => hosts,
    secrets,
    askHostKey: async () => true,
    knownHostsFiles: [],
    agentSocket: null,
    sshDir: join(dirs.work, 'empty-ssh-dir'),
    connectTimeoutMs: 5_000,
    ...o,
  });
  pools.push(p);
  return p;
}

/** A home whose known_hosts already trusts these servers (the first-use dialog is tested once). */
function trustedHome(...entries: [Sshd, { pub: string }][]): string {
  const home = mkdtempSync(join(dirs.work, 'home-'));
  writeFileSync(join(home, 'known_hosts'), entries.map(([s, k]) => `[127.0.0.1]:${s.port} ${k.pub.split(' ').slice(0, 2).join(' ')}\n`).join(''));
  return home;
}

const errorOf = (p: Promise<unknown>) => p.then(
  () => {
    throw new Error('expected a failure');
  },
  (e: unknown) => e as Error & { code: string; detail?: Record<string, unknown> },
);

const AUTH_LINES = /userauth|Accepted|Failed|Postponed|authentication/i;

describe('ssh core against real sshd', () => {
  beforeAll(async () => {
    keyring = await KeyringSession.start(join(dirs.work, 'keyring'), { secretService: true });
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
    secrets = await openSecrets(`icbd-test-${randomBytes(4).toString('hex')}`);
    mkdirSync(join(dirs.work, 'empty-ssh-dir'));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation dir
    clientKey = keygen('client');
    hostKeyA = keygen('host_a');
    hostKeyB = keygen('host_b');

    spawnSync('userdel', ['-r', TEST_USER], { stdio: 'ignore' });
    const home = join(dirs.work, 'testuser-home');
    sh('useradd', ['-M', '-d', home, '-s', '/bin/sh', TEST_USER]);
    mkdirSync(home);
    const uid = Number(sh('id', ['-u', TEST_USER]));
    chownSync(home, uid, uid);
    userPassword = `pw-${randomBytes(9).toString('base64url')}`;
    spawnSync('chpasswd', { input: `${TEST_USER}:${userPassword}\n` });
    writeFileSync(join(dirs.work, 'authorized_keys.root'), clientKey.pub);
    writeFileSync(join(dirs.work, `authorized_keys.${TEST_USER}`), clientKey.pub);

    sshdA = await new Sshd('a', await freePort(), hostKeyA).start();
    sshdB = await new Sshd('b', await freePort(), hostKeyB).start();
  });

  afterAll(async () => {
    for (const p of pools) p.close();
    for (const proc of started.reverse()) if (proc.pid && proc.exitCode === null) signalTree(proc.pid, 'SIGKILL');
    keyring?.stop();
    rmSync(SUDOERS, { force: true });
    spawnSync('userdel', ['-f', TEST_USER], { stdio: 'ignore' });
  });

  it("uses the keychain, and ssh2's native crypto binding wherever npm could build it", async () => {
    expect(secrets.status).toEqual({ backend: 'keychain', persistent: true });
    // Optional (built only where a compiler exists), but once built it must load.
    expect(await cryptoBindingAvailable()).toBe(existsSync(fileURLToPath(new URL('../../node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node', import.meta.url))));
  });

  it('asks about an unknown host key: rejected saves nothing, accepted is saved and not asked again', async () => {
    const home = mkdtempSync(join(dirs.work, 'home-'));
    const questions: HostKeyQuestion[] = [];
    const mark = sshdA.mark();
    const rejecting = pool([host('imgs', sshdA)], { home, askHostKey: async (q) => (questions.push(q), false) });
    const err = await errorOf(rejecting.run('imgs', ['true']));
    expect(err.code).toBe('CANCELLED');
    expect(err.message).toMatch(/rejected: nothing was saved and no credential was sent/);
    expect(questions).toEqual([{ host: 'imgs', hop: 'imgs', address: '127.0.0.1', port: sshdA.port, keyType: 'ssh-ed25519', fingerprint: hostKeyA.fingerprint, otherKnown: [] }]);
    expect(existsSync(join(home, 'known_hosts'))).toBe(false);
    await waitFor('sshd to log the rejected connection', () => /Connection (closed|reset)|disconnect/i.test(sshdA.since(mark)));
    expect(sshdA.since(mark)).not.toMatch(AUTH_LINES);

    const accepting = pool([host('imgs', sshdA)], { home, askHostKey: async (q) => (questions.push(q), true) });
    expect((await accepting.run('imgs', ['echo', 'hello world'])).stdout).toBe('hello world\n');
    expect(readFileSync(join(home, 'known_hosts'), 'utf8')).toBe(`[127.0.0.1]:${sshdA.port} ${hostKeyA.pub.split(' ').slice(0, 2).join(' ')}\n`);
    const again = pool([host('imgs', sshdA)], { home, askHostKey: async () => expect.fail('a saved key must not be asked about') });
    expect((await again.run('imgs', ['id', '-un'])).stdout).toBe('root\n');
    expect(questions).toHaveLength(2);
  });

  it('refuses a changed or revoked host key before sending any credential', async () => {
    // The app knows A's key for B's address: to the client, B has been re-keyed.
    const mark = sshdB.mark();
    const home = trustedHome([sshdB, hostKeyA]);
    const p = pool([host('cache01', sshdB)], { home, askHostKey: async () => expect.fail('a changed key is never asked about') });
    const err = await errorOf(p.run('cache01', ['true']));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(hostKeyA.fingerprint);
    expect(err.message).toContain(hostKeyB.fingerprint);
    expect(err.message).toMatch(/ssh-keygen -R '\[127\.0\.0\.1\]:\d+' -f '.*known_hosts'/);
    expect(err.detail).toMatchObject({ reason: 'host-key-changed', hop: 'cache01', fingerprint: hostKeyB.fingerprint });
    await waitFor('sshd to log the refused connection', () => /Connection (closed|reset)|disconnect/i.test(sshdB.since(mark)));
    const log = sshdB.since(mark);
    expect(log).toMatch(/Connection from 127\.0\.0\.1/);
    expect(log).not.toMatch(AUTH_LINES);

    const revokedFile = join(dirs.work, 'revoked_known_hosts');
    writeFileSync(revokedFile, `@revoked * ${hostKeyB.pub}`);
    const revoked = pool([host('cache01', sshdB)], { knownHostsFiles: [revokedFile], askHostKey: async () => expect.fail('a revoked key is never asked about') });
    const err2 = await errorOf(revoked.run('cache01', ['true']));
    expect(err2.code).toBe('UNAUTHORIZED');
    expect(err2.detail).toMatchObject({ reason: 'host-key-revoked' });
  });

  it('logs in with a password kept in the keyring', async () => {
    const h = host('imgs', sshdA, { user: TEST_USER, identityFile: undefined });
    await secrets.set(accounts.password(TEST_USER, '127.0.0.1', sshdA.port), userPassword);
    const mark = sshdA.mark();
    const p = pool([h], { home: trustedHome([sshdA, hostKeyA]), askSecret: async () => expect.fail('the keyring has the password') });
    expect((await p.run('imgs', ['id', '-un'])).stdout).toBe(`${TEST_USER}\n`);
    expect(sshdA.since(mark)).toMatch(new RegExp(`Accepted password for ${TEST_USER}`));

    // A password typed at the prompt is saved in the keyring once it has worked.
    await secrets.delete(accounts.password(TEST_USER, '127.0.0.1', sshdA.port));
    const asking = pool([h], { home: trustedHome([sshdA, hostKeyA]), askSecret: async () => userPassword });
    await asking.run('imgs', ['true']);
    await waitFor('the password in the keyring', () => secrets.get(accounts.password(TEST_USER, '127.0.0.1', sshdA.port)));
  });

  it('without a keychain, asks for the password each time and says it is not remembered', async () => {
    const h = host('imgs', sshdA, { user: TEST_USER, identityFile: undefined });
    const asked: SecretQuestion[] = [];
    const none = new NoSecrets('no OS keychain answered (test)');
    for (let i = 0; i < 2; i++) {
      const p = pool([h], { home: trustedHome([sshdA, hostKeyA]), secrets: none, askSecret: async (q) => (asked.push(q), userPassword) });
      expect((await p.run('imgs', ['id', '-un'])).stdout).toBe(`${TEST_USER}\n`);
    }
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatchObject({ kind: 'password', host: 'imgs', remembered: false, reason: 'Nothing is remembered: no OS keychain answered (test)' });
  });

  it('unlocks an encrypted key with the passphrase from the keyring', async () => {
    const passphrase = `pp-${randomBytes(6).toString('hex')}`;
    const key = keygen('encrypted', passphrase);
    writeFileSync(join(dirs.work, 'authorized_keys.root'), clientKey.pub + key.pub);
    await secrets.set(accounts.passphrase(key.path), passphrase);
    const mark = sshdA.mark();
    const p = pool([host('imgs', sshdA, { identityFile: key.path })], { home: trustedHome([sshdA, hostKeyA]), askSecret: async () => expect.fail('the keyring has the passphrase') });
    expect((await p.run('imgs', ['true'])).code).toBe(0);
    expect(sshdA.since(mark)).toMatch(new RegExp(`Accepted publickey for root .*${key.fingerprint.replace(/[+/]/g, '.')}`));
  });

  it('logs in with a key held by ssh-agent', async () => {
    const key = keygen('agent');
    writeFileSync(join(dirs.work, 'authorized_keys.root'), clientKey.pub + key.pub);
    const sock = join(dirs.work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    started.push(agent);
    await waitFor('ssh-agent socket', () => existsSync(sock));
    sh('ssh-add', ['-q', key.path], { ...process.env, SSH_AUTH_SOCK: sock });
    const mark = sshdA.mark();
    const p = pool([host('imgs', sshdA, { identityFile: undefined })], { home: trustedHome([sshdA, hostKeyA]), agentSocket: sock });
    expect((await p.run('imgs', ['true'])).code).toBe(0);
    expect(sshdA.since(mark)).toMatch(new RegExp(`Accepted publickey for root .*${key.fingerprint.replace(/[+/]/g, '.')}`));
    agent.kill('SIGKILL');
  });

  it('streams a long command and, on cancel, kills its whole process group', async () => {
    const p = pool([host('imgs', sshdA)], { home: trustedHome([sshdA, hostKeyA]) });
    const ac = new AbortController();
    let out = '';
    const arrivals: number[] = [];
    let pgid = 0;
    const script = 'sleep 300 & echo "child $!"; i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done';
    const running = p.exec('imgs', ['sh', '-c', script], {
      signal: ac.signal,
      onStart: (s) => (pgid = s.pgid),
      onStdout: (b) => {
        out += b.toString();
        arrivals.push(Date.now());
      },
    });
    await waitFor('ticks', () => out.includes('tick 5'));
    const child = Number(/child (\d+)/.exec(out)![1]);
    expect(alive(child) && alive(pgid)).toBe(true);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(150); // streamed, not collected at the end
    ac.abort();
    const err = await errorOf(running);
    expect(err.code).toBe('CANCELLED');
    expect(err.detail).toEqual({ pgid, stopped: true });
    expect(alive(child)).toBe(false);
    expect(alive(pgid)).toBe(false);
  });

  it('fails a command that outlives its timeout with TIMEOUT, and stops it', async () => {
    const p = pool([host('imgs', sshdA)], { home: trustedHome([sshdA, hostKeyA]) });
    let pgid = 0;
    const t0 = Date.now();
    const err = await errorOf(p.exec('imgs', ['sleep', '30'], { timeoutMs: 500, onStart: (s) => (pgid = s.pgid) }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/did not finish within 0\.5 s; its processes .* were stopped/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(alive(pgid)).toBe(false);
    // The operator's own command line goes to sh -c as typed, and its exit code comes back.
    expect(await p.exec('imgs', { operatorCommand: 'exit 3' })).toEqual({ code: 3, signal: null });
  });

  it('reaches a host through a jump host, checking the key of every hop', async () => {
    const mark = sshdA.mark();
    const hops: string[] = [];
    const hosts = [host('imgs', sshdA), host('cache01', sshdB, { jump: 'imgs' })];
    const p = pool(hosts, { askHostKey: async (q) => (hops.push(`${q.host}:${q.hop}:${q.fingerprint}`), true) });
    expect((await p.run('cache01', ['echo', 'behind imgs'])).stdout).toBe('behind imgs\n');
    expect(hops).toEqual([`cache01:imgs:${hostKeyA.fingerprint}`, `cache01:cache01:${hostKeyB.fingerprint}`]);
    expect(sshdA.since(mark)).toMatch(new RegExp(`direct-tcpip.*port ${sshdB.port}|target 127\\.0\\.0\\.1 port ${sshdB.port}`));
    // imgs's connection is the one cache01 goes through: one connection per host.
    expect(p.isConnected('imgs') && p.isConnected('cache01')).toBe(true);

    // A shell through the chain, with a pty that follows resizes.
    const shell = await p.shell('cache01', { cols: 80, rows: 24 });
    const screen = collect(shell);
    shell.resize(100, 30);
    shell.write('stty size\n');
    await waitFor('stty size', () => screen.text.includes('30 100'));
    shell.write('exit\n');
    await waitFor('shell exit', () => screen.exit);

    // The second hop's key changed: refused, though the first hop is fine.
    const changed = pool(hosts, { home: trustedHome([sshdA, hostKeyA], [sshdB, hostKeyA]), askHostKey: async () => expect.fail('nothing to ask') });
    const err = await errorOf(changed.run('cache01', ['true']));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.detail).toMatchObject({ reason: 'host-key-changed', host: 'cache01', hop: 'cache01' });
    expect(err.message).toMatch(/through imgs/);
  });

  it('goes through a two-hop ProxyJump chain imported from an ssh config, hop by hop as ssh does', async () => {
    const file = join(dirs.work, 'ssh_config_chain');
    const key = `    IdentityFile ${clientKey.path}\n`;
    writeFileSync(
      file,
      `Host bastion\n    HostName 127.0.0.1\n    Port ${sshdA.port}\n${key}Host imgs\n    HostName 127.0.0.1\n    Port ${sshdB.port}\n${key}` +
        `Host cache01\n    HostName 127.0.0.1\n    Port ${sshdA.port}\n${key}    ProxyJump root@bastion,imgs\n`,
    );
    const { proposals, skipped } = proposeHostsFromSshConfig(readSshConfig(file, dirs.work), { localUser: 'root', home: dirs.work });
    expect(skipped).toEqual([]);
    const hosts = proposals.map((p): Host => ({ ...p.host, role: p.host.role ?? 'cache' }));
    // root@bastion is the bastion of the file (root is the user ssh would take anyway); imgs is
    // reached directly in the file, but cache01's chain reaches it through the bastion.
    expect(hosts.map((h) => [h.name, h.port, h.jump])).toEqual([
      ['bastion', sshdA.port, undefined],
      ['imgs', sshdB.port, undefined],
      ['imgs-via-bastion', sshdB.port, 'bastion'],
      ['cache01', sshdA.port, 'imgs-via-bastion'],
    ]);
    const [markA, markB] = [sshdA.mark(), sshdB.mark()];
    const p = pool(hosts, { home: trustedHome([sshdA, hostKeyA], [sshdB, hostKeyB]), askHostKey: async () => expect.fail('every key is known') });
    expect((await p.run('cache01', ['echo', 'two hops'])).stdout).toBe('two hops\n');
    expect(sshdA.since(markA)).toMatch(new RegExp(`direct-tcpip.*port ${sshdB.port}|target 127\\.0\\.0\\.1 port ${sshdB.port}`));
    expect(sshdB.since(markB)).toMatch(new RegExp(`direct-tcpip.*port ${sshdA.port}|target 127\\.0\\.0\\.1 port ${sshdA.port}`));
    expect(p.isConnected('bastion') && p.isConnected('imgs-via-bastion')).toBe(true);
  });

  it('reads, writes atomically (keeping owner and mode) and uploads with progress', async () => {
    const p = pool([host('imgs', sshdA)], { home: trustedHome([sshdA, hostKeyA]) });
    const target = join(dirs.work, 'remote', 'fstab');
    mkdirSync(join(dirs.work, 'remote'));
    writeFileSync(target, 'old\n');
    const uid = Number(sh('id', ['-u', TEST_USER]));
    chownSync(target, uid, uid);
    chmodSync(target, 0o640);
    await p.writeFileAtomic('imgs', target, 'new line with \'quotes\' and $(no expansion)\n');
    expect(readFileSync(target, 'utf8')).toBe("new line with 'quotes' and $(no expansion)\n");
    const st = statSync(target);
    expect([st.uid, st.mode & 0o777]).toEqual([uid, 0o640]);
    expect(readdirSync(join(dirs.work, 'remote'))).toEqual(['fstab']); // no temp file left behind
    expect((await p.readFile('imgs', target)).toString()).toBe("new line with 'quotes' and $(no expansion)\n");
    expect((await errorOf(p.readFile('imgs', join(dirs.work, 'remote', 'missing')))).code).toBe('NOT_FOUND');

    const local = join(dirs.work, 'backup.tar');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(local, data);
    const progress: number[] = [];
    const remote = join(dirs.work, 'remote', 'backup.tar');
    await p.upload('imgs', local, remote, { mode: 0o600, onProgress: ({ sent, total }) => (progress.push(sent), expect(total).toBe(data.length)) });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(remote))).toBe(sha(data));
    expect(statSync(remote).mode & 0o777).toBe(0o600);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(data.length);

    // A cancelled upload leaves the old file as it was, and no temp file.
    const big = join(dirs.work, 'big.iso');
    writeFileSync(big, randomBytes(48 * 1024 * 1024));
    const ac = new AbortController();
    const cancelled = p.upload('imgs', big, remote, { signal: ac.signal, onProgress: ({ sent }) => sent > 1024 * 1024 && ac.abort() });
    expect((await errorOf(cancelled)).code).toBe('CANCELLED');
    expect(sha(readFileSync(remote))).toBe(sha(data));
    expect(readdirSync(join(dirs.work, 'remote')).sort()).toEqual(['backup.tar', 'fstab']);
  });

  it('pauses a flooding terminal until the consumer acknowledges', async () => {
    const t = openLocalShell({ cols: 80, rows: 24, shell: '/bin/sh' });
    const screen = collect(t);
    t.write("head -c 4000000 /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE\n");
    await waitFor('output', () => screen.text.length > 200 * 1024);
    await sleep(400);
    const held = screen.text.length;
    await sleep(400);
    // Nothing acknowledged: the source is paused near the 256 KiB high-water mark.
    expect(screen.text.length).toBe(held);
    expect(held).toBeLessThan(600 * 1024);
    const unsubscribe = t.onData((d) => t.ack(d.length));
    t.ack(held);
    await waitFor('the rest of the flood', () => screen.text.includes('FLOOD-DONE'), 20_000);
    unsubscribe();
    t.close();
    await waitFor('local shell exit', () => screen.exit);
  });

  it('reports health: up with latency, down when the host stops answering, up again after a restart', async () => {
    const sshd = await new Sshd('health', await freePort(), hostKeyA).start();
    const h = host('imgs', sshd);
    const p = pool([h], { home: trustedHome([sshd, hostKeyA]), keepaliveIntervalMs: 500, keepaliveCountMax: 2 });
    const events: HostHealth[] = [];
    const monitor = new HealthMonitor(p, { getHosts: async () => [h], onChange: (e) => events.push(e), intervalMs: 300, maxBackoffMs: 1_000 });
    monitor.start();
    try {
      const up = await waitFor('up', () => events.find((e) => e.state === 'up'));
      expect(up.latencyMs).toBeGreaterThanOrEqual(0);
      expect(up.latencyMs).toBeLessThan(1_000);

      // SIGSTOP: the TCP connection stays open but nothing answers, like a hung host or a pulled cable.
      const stoppedAt = Date.now();
      signalTree(sshd.proc.pid!, 'SIGSTOP');
      const down = await waitFor('down', () => events.find((e) => e.state === 'down'), 10_000);
      expect(Date.now() - stoppedAt).toBeLessThan(500 * (2 + 1) + 1_500);
      expect(down.lastError).toBeTruthy();

      await sshd.kill();
      await sshd.start();
      const n = events.length;
      await waitFor('up again', () => events.slice(n).find((e) => e.state === 'up'), 10_000);
      expect(monitor.snapshot()).toMatchObject([{ host: 'imgs', state: 'up', lastError: null }]);
    } finally {
      monitor.stop();
      await sshd.kill();
    }
  });

  it('reports a host whose key is not accepted yet as untrusted, and up as soon as a connection accepts it', async () => {
    const sshd = await new Sshd('health-key', await freePort(), hostKeyA).start();
    const h = host('imgs', sshd);
    // A fresh data directory: the key is unknown; the operator's connection (interactive) accepts it.
    const p = pool([h], { askHostKey: async () => true });
    const events: HostHealth[] = [];
    // Backoff far beyond the test: coming up can only be the monitor noticing the new connection.
    const monitor = new HealthMonitor(p, { getHosts: async () => [h], onChange: (e) => events.push(e), intervalMs: 60_000, maxBackoffMs: 60_000 });
    monitor.start();
    try {
      const untrusted = await waitFor('untrusted', () => events.find((e) => e.state === 'untrusted'));
      expect(untrusted).toMatchObject({ latencyMs: null, lastError: { code: 'UNAUTHORIZED', hostKey: { state: 'unknown', hop: 'imgs', port: sshd.port, fingerprint: hostKeyA.fingerprint } } });
      expect(events.some((e) => e.state === 'down')).toBe(false);
      await p.run('imgs', ['true']);
      await waitFor('up', () => events.find((e) => e.state === 'up'), 5_000);
    } finally {
      monitor.stop();
      await sshd.kill();
    }
  });

  it('reports a changed host key as untrusted, with the command that forgets the old key after checking', async () => {
    const sshd = await new Sshd('health-changed', await freePort(), hostKeyB).start();
    const h = host('imgs', sshd);
    const home = trustedHome([sshd, hostKeyA]);
    const p = pool([h], { home, askHostKey: async () => expect.fail('a changed key is never asked about') });
    const events: HostHealth[] = [];
    const monitor = new HealthMonitor(p, { getHosts: async () => [h], onChange: (e) => events.push(e) });
    monitor.start();
    try {
      const untrusted = await waitFor('untrusted', () => events.find((e) => e.state === 'untrusted'));
      expect(untrusted.lastError).toMatchObject({ code: 'UNAUTHORIZED', hostKey: { state: 'changed', hop: 'imgs', fingerprint: hostKeyB.fingerprint } });
      const words = untrusted.lastError!.message;
      expect(words).toMatch(/^SECURITY: the host key of imgs \(127\.0\.0\.1:\d+\) has CHANGED/);
      expect(words).toContain(`${hostKeyA.fingerprint} is known (${join(home, 'known_hosts')} line 1)`);
      expect(words).toContain(`\`icbd known-hosts forget 127.0.0.1 ${sshd.port}\``);
      // Those words, followed: the old key forgotten, the next connection accepts the new one.
      expect(await p.knownHosts.forget('127.0.0.1', sshd.port)).toBe(1);
      await monitor.refresh('imgs');
      expect(monitor.snapshot()[0]).toMatchObject({ state: 'untrusted', lastError: { hostKey: { state: 'unknown' } } });
    } finally {
      monitor.stop();
      await sshd.kill();
    }
  });

  describe('sudo for a non-root user', () => {
    const asUser = () => host('imgs', sshdA, { user: TEST_USER });
    const sudoAccount = () => accounts.sudo(TEST_USER, '127.0.0.1', sshdA.port);
    const rule = (r: string) => writeFileSync(SUDOERS, `${TEST_USER} ALL=(ALL) ${r}\n`, { mode: 0o440 });

    it('runs through sudo with NOPASSWD without touching any secret', async () => {
      rule('NOPASSWD: ALL');
      const p = pool([asUser()], { home: trustedHome([sshdA, hostKeyA]), askSecret: async () => expect.fail('NOPASSWD needs no password') });
      expect((await p.run('imgs', ['id', '-u'], { sudo: true })).stdout).toBe('0\n');
      expect((await p.run('imgs', ['id', '-u'])).stdout).not.toBe('0\n');
    });

    it('answers the password prompt from the keyring, and says when the password is wrong', async () => {
      rule('ALL');
      await secrets.set(sudoAccount(), userPassword);
      const p = pool([asUser()], { home: trustedHome([sshdA, hostKeyA]) });
      const r = await p.run('imgs', ['sh', '-c', 'id -u; cat'], { sudo: true, stdin: 'stdin reaches the command\n' });
      // The password went to sudo only: the command's stdin is exactly what was given.
      expect(r.stdout).toBe('0\nstdin reaches the command\n');
      expect(r.stderr).not.toContain('icbd-sudo');

      // Cancelling a root command from a non-root login kills it too (the kill runs under sudo).
      const ac = new AbortController();
      let pgid = 0;
      const running = p.exec('imgs', ['sleep', '300'], { sudo: true, signal: ac.signal, onStart: (s) => (pgid = s.pgid) });
      await waitFor('sudo sleep to start', () => pgid);
      ac.abort();
      expect((await errorOf(running)).detail).toEqual({ pgid, stopped: true });
      expect(alive(pgid)).toBe(false);

      await secrets.set(sudoAccount(), 'not-the-password');
      const err = await errorOf(p.run('imgs', ['id', '-u'], { sudo: true }));
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.message).toMatch(/refused the password stored in the keychain/);
      expect(err.message).not.toContain('not-the-password');
    });

    it('says clearly when the user may not use sudo', async () => {
      rmSync(SUDOERS, { force: true });
      await secrets.delete(sudoAccount());
      const p = pool([asUser()], { home: trustedHome([sshdA, hostKeyA]), askSecret: async () => userPassword });
      const err = await errorOf(p.run('imgs', ['id', '-u'], { sudo: true }));
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.message).toMatch(/may not use sudo on imgs: add a rule/);
    });
  });
});

function collect(t: TerminalSession): { text: string; exit: boolean } {
  const screen = { text: '', exit: false };
  t.onData((d) => (screen.text += d));
  t.onExit(() => (screen.exit = true));
  return screen;
}
