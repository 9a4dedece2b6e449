/**
 * Issue 4 against the demo lab: the SSH layer through the core and the CLI, as the operator uses
 * it, with only the inventory (no OpenSSH config). The lab lives in its own directory, so this file
 * can run beside any other lab.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Asker } from '../../electron/core/util/prompts.ts';
import { AppError } from '../../shared/errors.ts';
import { labSession } from './session.ts';

const asked: string[] = [];
// Every lab key is trusted when the lab hosts are added; any question here is a failure to trust them.
const asker: Asker = {
  askHostKey: async (q) => (asked.push(q.hop), false),
  askSecret: async () => undefined,
};
// Up through the core, as the operator's `icbd lab up` is: its hosts added to the inventory and trusted.
const lab = labSession(
  'ssh',
  async (core) => {
    const end = await core.jobs.wait((await core.call('lab.up', { caches: 1, nfs: false, addHosts: true })).jobId);
    if (end.state !== 'done') throw new Error(`lab up: ${end.error?.message}`);
  },
  { asker },
);
const { icbd } = lab;

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('SSH on the lab', { timeout: 120_000 }, () => {
  it('icbd exec reaches cache01 through imgs from the inventory alone, and exits with the remote code', async () => {
    const hosts = await lab.core.call('hosts.list', {});
    expect(hosts.find((h) => h.name === 'cache01')).toMatchObject({ jump: 'imgs', user: 'root' });
    const ok = await icbd('exec', 'cache01', '--', 'hostname');
    expect(ok).toMatchObject({ code: 0, stdout: 'cache01\n' });
    const failed = await icbd('exec', 'cache01', '--', 'echo', 'out;', 'echo', 'err', '>&2;', 'exit', '7');
    expect(failed).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(asked).toEqual([]);
    // Both runs are in the audit log, as the operator typed them, with how they ended and how long they took.
    const runs = (await lab.core.call('audit.list', { host: 'cache01', limit: 10 })).filter((e) => e.action === 'exec');
    expect(runs.slice(0, 2)).toEqual([
      expect.objectContaining({ door: 'cli', command: 'echo out; echo err >&2; exit 7', user: 'root', result: 'failed', exitCode: 7, ms: expect.any(Number) }),
      expect.objectContaining({ door: 'cli', command: 'hostname', user: 'root', result: 'ok', exitCode: 0, ms: expect.any(Number) }),
    ]);
  });

  it('a terminal session on a host is in the audit log when it opens and when it ends, without what was typed', async () => {
    const terminals = await lab.core.terminals();
    const ended = new Promise<void>((resolve) => lab.core.on('terminal.event', (e) => e.type === 'exit' && resolve()));
    const { id } = await lab.core.call('terminal.open', { host: 'cache01', cols: 80, rows: 24 });
    terminals.write(id, 'echo typed-secret-words; exit 3\n');
    await ended;
    await expect
      .poll(async () => (await lab.core.call('audit.list', { host: 'cache01', limit: 10 })).filter((e) => e.action.startsWith('terminal.')).map((e) => e.action))
      .toEqual(['terminal.close', 'terminal.open']);
    const [close, open] = (await lab.core.call('audit.list', { host: 'cache01', limit: 10 })).filter((e) => e.action.startsWith('terminal.'));
    expect(open).toMatchObject({ user: 'root', result: 'ok' });
    expect(close).toMatchObject({ user: 'root', exitCode: 3, ms: expect.any(Number) });
    expect(JSON.stringify([open, close])).not.toContain('typed-secret-words');
  });

  it('streams a long command and cancelling it leaves no remote process behind', async () => {
    const { jobId } = await lab.core.call('ssh.exec', { host: 'cache01', command: 'for i in $(seq 1 300); do echo icbd-tick $i; sleep 0.1; done' });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      const off = lab.core.on('job.log', (l) => {
        if (l.id !== jobId) return;
        seen.push(l.line);
        if (seen.join('').includes('icbd-tick 3\n')) {
          off();
          resolve();
        }
      });
    });
    expect(await lab.core.call('jobs.cancel', { id: jobId })).toEqual({ cancelled: true });
    expect((await lab.core.jobs.wait(jobId)).state).toBe('cancelled');
    const left = await icbd('exec', 'cache01', '--', "pgrep -f 'icbd-[t]ick' || echo none");
    expect(left.stdout.trim()).toBe('none');
  });

  it('a stopped host turns down and fails a command with a timeout, not a hang; started, it is up again', async () => {
    expect((await lab.core.call('health.check', { host: 'cache01' }))[0]).toMatchObject({ state: 'up' });
    await lab.core.call('lab.host', { action: 'stop', host: 'cache01' });
    const t0 = Date.now();
    const down = (await lab.core.call('health.check', { host: 'cache01' }))[0]!;
    expect(down.state).toBe('down');
    expect(down.lastError).toMatchObject({ message: expect.stringContaining('cache01') });
    expect(down.lastError!.hostKey).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(45_000);

    const pool = await lab.core.ssh();
    const err = await pool.run('cache01', ['true'], { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(['TIMEOUT', 'UNAVAILABLE']).toContain((err as AppError).code);
    expect((err as AppError).message).toMatch(/cache01/);

    await lab.core.call('lab.host', { action: 'start', host: 'cache01' });
    let up;
    for (let i = 0; i < 30 && up?.state !== 'up'; i++) {
      up = (await lab.core.call('health.check', { host: 'cache01' }))[0];
      if (up?.state !== 'up') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(up).toMatchObject({ state: 'up' });
    expect(up!.latencyMs).toBeGreaterThan(0);
  });

  it('shows a host whose key is not accepted yet as untrusted, not down, with the fingerprint to check; up once accepted', async () => {
    const pool = await lab.core.ssh();
    const cache01 = (await lab.core.call('hosts.list', {})).find((h) => h.name === 'cache01')!;
    const status = (await lab.core.call('lab.status', {}))!;
    // The fingerprint cache01 really has, from the keys the lab made (what its console would print).
    const { execFileSync } = await import('node:child_process');
    const real = execFileSync('ssh-keygen', ['-l', '-F', cache01.address, '-f', status.knownHosts], { encoding: 'utf8' }).match(/SHA256:[A-Za-z0-9+/]{43}/g)!;
    expect(await pool.knownHosts.forget(cache01.address, cache01.port)).toBeGreaterThan(0);
    // Closing takes a moment; a probe meanwhile would find the old connection closing, not the key.
    pool.disconnect('cache01');
    for (let i = 0; i < 50 && pool.isConnected('cache01'); i++) await new Promise((r) => setTimeout(r, 100));

    const untrusted = (await lab.core.call('health.check', { host: 'cache01' }))[0]!;
    expect(untrusted).toMatchObject({
      state: 'untrusted',
      latencyMs: null,
      lastError: { code: 'UNAUTHORIZED', hostKey: { state: 'unknown', hop: 'cache01', address: cache01.address, port: cache01.port } },
    });
    expect(real).toContain(untrusted.lastError!.hostKey!.fingerprint);
    expect(untrusted.lastError!.message).toContain(`is not accepted yet`);
    // imgs, its jump host, is trusted and up: only cache01 is in question.
    expect((await lab.core.call('health.check', { host: 'imgs' }))[0]).toMatchObject({ state: 'up' });

    const cli = await icbd('health', 'cache01');
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^cache01 +untrusted: key not accepted yet +-$/m);
    expect(cli.stdout).toContain(`\ncache01: cache01 (${cache01.address}:${cache01.port}) answers, but its host key`);
    expect(cli.stdout).toContain('`icbd exec cache01 -- true`');

    // What the words say to do (here without a terminal to answer on, so --accept-new).
    expect((await icbd('--accept-new', 'exec', 'cache01', '--', 'true')).code).toBe(0);
    expect((await lab.core.call('health.check', { host: 'cache01' }))[0]).toMatchObject({ state: 'up', lastError: null });
    expect(asked).toEqual([]);
  });

  it('refuses a changed host key before sending any credential, saying how to fix it', async () => {
    const pool = await lab.core.ssh();
    const imgs = (await lab.core.call('hosts.list', {})).find((h) => h.name === 'imgs')!;
    // The app's record of imgs replaced by another key: what a re-keyed or impostor host looks like.
    await pool.knownHosts.forget(imgs.address, imgs.port);
    const { execFileSync } = await import('node:child_process');
    const other = path.join(lab.home, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const blob = Buffer.from(fs.readFileSync(`${other}.pub`, 'utf8').split(' ')[1]!, 'base64');
    await pool.knownHosts.add(imgs.address, imgs.port, blob);
    pool.disconnect('imgs');
    pool.disconnect('cache01');
    const refused = await icbd('exec', 'cache01', '--', 'hostname');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/SHA256:/);
    expect(refused.stderr).toMatch(/ssh-keygen -R/);

    // Health: a security event, not a host that is down; cache01 behind imgs is as untrusted as imgs.
    const imgsHealth = (await lab.core.call('health.check', { host: 'imgs' }))[0]!;
    const cache01Health = (await lab.core.call('health.check', { host: 'cache01' }))[0]!;
    const changed = { state: 'changed', hop: 'imgs', address: imgs.address, port: imgs.port } as const;
    expect(imgsHealth).toMatchObject({ state: 'untrusted', lastError: { code: 'UNAUTHORIZED', hostKey: changed } });
    expect(cache01Health).toMatchObject({ state: 'untrusted', lastError: { hostKey: changed } });
    const forget = `icbd known-hosts forget ${imgs.address} ${imgs.port}`;
    expect(imgsHealth.lastError!.message).toMatch(/^SECURITY: the host key of imgs .* has CHANGED/);
    expect(imgsHealth.lastError!.message).toContain(forget);
    const cli = await icbd('health');
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^imgs +UNTRUSTED: key CHANGED +-$/m);
    expect(cli.stdout).toMatch(/^cache01 +UNTRUSTED: imgs's key CHANGED +-$/m);
    expect(cli.stdout).toContain(`\nimgs: SECURITY: the host key of imgs`);

    // After checking (the lab's imgs was not reinstalled: the test planted the other key), what the words say.
    expect((await icbd(...forget.split(' ').slice(1))).code).toBe(0);
    expect((await icbd('--accept-new', 'exec', 'cache01', '--', 'hostname')).stdout).toBe('cache01\n');
    expect((await lab.core.call('health.check', {})).map((h) => [h.host, h.state])).toEqual(expect.arrayContaining([['imgs', 'up'], ['cache01', 'up']]));
  });
});
