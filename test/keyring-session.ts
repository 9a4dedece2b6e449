import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A private D-Bus session bus in a test's own directory, and on it a GNOME Keyring unlocked with
 * a throwaway password (or nothing: a desktop with no Secret Service). The bus activates no
 * services, so only what is started here answers; nothing touches the machine's own keyring.
 * keyring-rs and secret-tool find the bus through DBUS_SESSION_BUS_ADDRESS (see `env`).
 */
export class KeyringSession {
  readonly #started: ChildProcess[] = [];

  private constructor(
    readonly address: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(dir: string, o: { secretService: boolean }): Promise<KeyringSession> {
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, 'bus');
    const config = join(dir, 'bus.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`,
    );
    const xdg = { XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_RUNTIME_DIR: join(dir, 'xdg-run') };
    for (const d of Object.values(xdg)) mkdirSync(d, { recursive: true, mode: 0o700 });
    const address = `unix:path=${socket}`;
    const session = new KeyringSession(address, { ...process.env, ...xdg, DBUS_SESSION_BUS_ADDRESS: address });
    const bus = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--nopidfile'], { stdio: 'ignore' });
    session.#started.push(bus);
    await session.#waitFor('the private D-Bus', () => session.#hasOwner('org.freedesktop.DBus'));
    if (o.secretService) {
      const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env: session.env, stdio: ['pipe', 'ignore', 'ignore'] });
      session.#started.push(keyring);
      // --unlock reads the login keyring's password from stdin; it creates that keyring in dir.
      keyring.stdin!.end('icbd-throwaway-keyring');
      await session.#waitFor('gnome-keyring on the bus', () => session.#hasOwner('org.freedesktop.secrets'));
    }
    return session;
  }

  /** `secret-tool ARGS` on this bus; stdin is the secret for `store`. */
  secretTool(args: string[], input?: string): { status: number | null; stdout: string } {
    const r = spawnSync('secret-tool', args, { env: this.env, input, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout };
  }

  stop(): void {
    for (const p of this.#started.reverse()) if (p.exitCode === null) p.kill('SIGKILL');
  }

  #hasOwner(name: string): boolean {
    const args = ['--session', '--dest=org.freedesktop.DBus', '--print-reply', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${name}`];
    return spawnSync('dbus-send', args, { env: this.env, encoding: 'utf8' }).stdout.includes('boolean true');
  }

  async #waitFor(what: string, ok: () => boolean): Promise<void> {
    for (const end = Date.now() + 10_000; !ok(); await sleep(50)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      if (this.#started.some((p) => p.exitCode !== null)) throw new Error(`${what}: a process exited early`);
    }
  }
}
