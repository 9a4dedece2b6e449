/**
 * Issue 4 against the demo lab: the SSH layer through the core and the CLI, as the operator uses
 * it, with only the inventory (no OpenSSH config). The lab lives in its own directory, so this file
 * can run beside any other lab.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../electron/core/core.ts';
import type { Asker } from '../../electron/core/prompts.ts';
import { AppError } from '../../shared/errors.ts';
import { icbdIn } from './session.ts';

const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-ssh-lab-'));
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-ssh-home-'));
process.env.ICBD_LAB_DIR = labDir;
const asked: string[] = [];
// Every lab key is trusted when the lab hosts are added; any question here is a failure to trust them.
const asker: Asker = {
  askHostKey: async (q) => (asked.push(q.hop), false),
  askSecret: async () => undefined,
};
const core = new Core({ home, door: 'cli', asker });
const icbd = icbdIn(home, labDir);

async function finished(jobId: string) {
  return core.jobs.wait(jobId);
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('SSH on the lab', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const end = await finished((await core.call('lab.up', { caches: 1, nfs: false, addHosts: true })).jobId);
    if (end.state !== 'done') throw new Error(`lab up: ${end.error?.message}`);
  }, 600_000);

  afterAll(async () => {
    await core.close();
    await finished((await core.call('lab.down', {})).jobId);
    fs.rmSync(labDir, { recursive: true, force: true });
  }, 300_000);

  it('icbd exec reaches cache01 through imgs from the inventory alone, and exits with the remote code', async () => {
    const hosts = await core.call('hosts.list', {});
    expect(hosts.find((h) => h.name === 'cache01')).toMatchObject({ jump: 'imgs', user: 'root' });
    const ok = await icbd('exec', 'cache01', '--', 'hostname');
    expect(ok).toMatchObject({ code: 0, stdout: 'cache01\n' });
    const failed = await icbd('exec', 'cache01', '--', 'echo', 'out;', 'echo', 'err', '>&2;', 'exit', '7');
    expect(failed).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(asked).toEqual([]);
  });

  it('streams a long command and cancelling it leaves no remote process behind', async () => {
    const { jobId } = await core.call('ssh.exec', { host: 'cache01', command: 'for i in $(seq 1 300); do echo icbd-tick $i; sleep 0.1; done' });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      const off = core.on('job.log', (l) => {
        if (l.id !== jobId) return;
        seen.push(l.line);
        if (seen.join('').includes('icbd-tick 3\n')) {
          off();
          resolve();
        }
      });
    });
    expect(await core.call('jobs.cancel', { id: jobId })).toEqual({ cancelled: true });
    expect((await finished(jobId)).state).toBe('cancelled');
    const left = await icbd('exec', 'cache01', '--', "pgrep -f 'icbd-[t]ick' || echo none");
    expect(left.stdout.trim()).toBe('none');
  });

  it('a stopped host turns down and fails a command with a timeout, not a hang; started, it is up again', async () => {
    expect((await core.call('health.check', { host: 'cache01' }))[0]).toMatchObject({ state: 'up' });
    await core.call('lab.host', { action: 'stop', host: 'cache01' });
    const t0 = Date.now();
    const down = (await core.call('health.check', { host: 'cache01' }))[0]!;
    expect(down.state).toBe('down');
    expect(down.lastError).toBeTruthy();
    expect(Date.now() - t0).toBeLessThan(45_000);

    const pool = await core.ssh();
    const err = await pool.run('cache01', ['true'], { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(['TIMEOUT', 'UNAVAILABLE']).toContain((err as AppError).code);
    expect((err as AppError).message).toMatch(/cache01/);

    await core.call('lab.host', { action: 'start', host: 'cache01' });
    let up;
    for (let i = 0; i < 30 && up?.state !== 'up'; i++) {
      up = (await core.call('health.check', { host: 'cache01' }))[0];
      if (up?.state !== 'up') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(up).toMatchObject({ state: 'up' });
    expect(up!.latencyMs).toBeGreaterThan(0);
  });

  it('refuses a changed host key before sending any credential, saying how to fix it', async () => {
    const pool = await core.ssh();
    const imgs = (await core.call('hosts.list', {})).find((h) => h.name === 'imgs')!;
    // The app's record of imgs replaced by another key: what a re-keyed or impostor host looks like.
    await pool.knownHosts.forget(imgs.address, imgs.port);
    const { execFileSync } = await import('node:child_process');
    const other = path.join(home, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const blob = Buffer.from(fs.readFileSync(`${other}.pub`, 'utf8').split(' ')[1]!, 'base64');
    await pool.knownHosts.add(imgs.address, imgs.port, blob);
    pool.disconnect('imgs');
    pool.disconnect('cache01');
    const refused = await icbd('exec', 'cache01', '--', 'hostname');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/SHA256:/);
    expect(refused.stderr).toMatch(/ssh-keygen -R/);
  });
});
