/**
 * Annex 2's SSH table between installed nodes, and the CLI's install command, on a lab of its
 * own. imgs is installed first (cache01 has no key to trust yet: the plan says so), then cache01
 * (which trusts imgs at once); `install trust` then brings imgs up to the table, after which the
 * nodes ssh to each other by name as OpenSSH's strictest client does, and a second trust plans
 * nothing. rw and home are left pristine: trust reports them as not installed, and the CLI's
 * refusals are tried on rw.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../electron/core/core.ts';
import { sshRun } from '../../electron/core/lab/index.ts';
import type { Asker } from '../../electron/core/prompts.ts';
import type { InstallPlanOut, InstallRequest, TrustPlanOut } from '../../shared/install.ts';
import { installLabUp, LAB_PLATFORM } from './install-lab.ts';

const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-trust-lab-'));
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-trust-home-'));
process.env.ICBD_LAB_DIR = labDir;
const asker: Asker = { askHostKey: async () => false, askSecret: async () => undefined };
const core = new Core({ home, door: 'cli', asker });
const execFileP = promisify(execFile);

const icbd = (...args: string[]) =>
  execFileP('node', ['electron/icbd.mjs', '--home', home, ...args], { env: { ...process.env, ICBD_LAB_DIR: labDir }, timeout: 300_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

const ssh = async (host: string, cmd: string) => {
  const r = await sshRun(labDir, host, cmd, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
};

const STRICT = 'ssh -n -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10';

const request = (host: 'imgs' | 'cache01'): InstallRequest => ({
  host,
  role: host === 'imgs' ? 'imgs' : 'cache',
  platform: LAB_PLATFORM,
  nfs: false,
  confirmDisk: '/dev/vdb',
  ...(host === 'cache01' && { cache: { number: 1, clientSubnet: '10.213.101.0/24' } }),
});

async function job<T>(name: 'install.apply' | 'install.trust', input: InstallRequest | Record<string, never>): Promise<T> {
  const { jobId } = name === 'install.trust' ? await core.call(name, {}) : await core.call(name, input as InstallRequest);
  const end = await core.jobs.wait(jobId);
  expect(end.error?.message).toBeUndefined();
  return end.result as T;
}

const trustNotices = (plan: InstallPlanOut) => plan.steps.find((s) => s.id === 'ssh-trust')?.notices.map((n) => n.message) ?? [];

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('SSH trust between installed nodes, and the install CLI', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await installLabUp(core, labDir);
  }, 1_800_000);

  afterAll(async () => {
    await core.close();
    await core.jobs.wait((await core.call('lab.down', {})).jobId);
    fs.rmSync(labDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }, 300_000);

  it('icbd install --dry-run --json plans (mkfs waits for the typed device); --yes without --confirm-disk refuses the mkfs', async () => {
    const dry = await icbd('install', 'rw', '--role', 'rw', '--dry-run', '--json', '--no-nfs');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as InstallPlanOut;
    expect(plan).toMatchObject({ host: 'rw', role: 'rw' });
    expect(plan.steps.map((s) => s.id)).toContain('ssh-trust');
    expect(plan.blockers.map((b) => b.step)).toEqual(['disk']);

    const refused = await icbd('install', 'rw', '--role', 'rw', '--yes', '--no-nfs');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--confirm-disk DEVICE/);
    expect(await ssh('rw', 'blkid -p -o value -s TYPE /dev/vdb || true')).toBe('');
    expect((await core.call('audit.list', { host: 'rw' })).some((e) => e.command?.startsWith('mkfs'))).toBe(false);
  });

  it('installs imgs (told that cache01 has no key yet), then cache01, which accepts imgs at once', async () => {
    const imgs = await job<InstallPlanOut>('install.apply', request('imgs'));
    expect(imgs.changes).toBe(0);
    expect(trustNotices(imgs)).toContain('cache01 has no root key yet: trust with it will be completed when it is installed (install trust).');

    const cache = await job<InstallPlanOut>('install.apply', request('cache01'));
    expect(cache.changes).toBe(0);
    expect(trustNotices(cache).some((n) => n.startsWith('imgs'))).toBe(false);
    expect((await ssh('imgs', `${STRICT} cache01 hostname`)).trim()).toBe('cache01');
    // imgs was installed before cache01 had a key to accept
    expect(await ssh('cache01', `${STRICT} imgs true 2>&1 && echo reached || echo refused`)).toMatch(/refused/);
  });

  it('install trust plans imgs up to the table with diffs, applies with audit; then ssh works both ways and a second trust plans nothing', async () => {
    const plan = await core.call('install.planTrust', {});
    const imgs = plan.nodes.find((n) => n.host === 'imgs')!;
    const keys = imgs.steps.find((s) => s.id === 'ssh-trust')!.changes;
    expect(keys.map((c) => c.kind === 'file' && c.path)).toEqual(['/root/.ssh/authorized_keys']);
    expect(keys[0]!.kind === 'file' && keys[0]!.diff).toMatch(/^\+ssh-ed25519 \S+ root@cache01$/m);
    expect(plan.nodes.find((n) => n.host === 'cache01')!.steps.every((s) => s.changes.length === 0)).toBe(true);
    expect(plan.nodes.filter((n) => n.skipped).map((n) => n.host).sort()).toEqual(['home', 'rw']);
    // rw was only planned (by the CLI above), home never touched
    expect(plan.notices.map((n) => n.message).sort()).toEqual([
      'home was not installed from this console: install it, then its trust is set up.',
      'rw has no root key yet: its trust is set up when it is installed.',
    ]);

    const after = await job<TrustPlanOut>('install.trust', {});
    expect(after.changes).toBe(0);
    expect((await ssh('imgs', `${STRICT} cache01 hostname`)).trim()).toBe('cache01');
    expect((await ssh('cache01', `${STRICT} imgs hostname`)).trim()).toBe('imgs');
    const audit = await core.call('audit.list', { host: 'imgs' });
    expect(audit.find((e) => e.step === 'ssh-trust' && e.path === '/root/.ssh/authorized_keys' && e.result === 'ok')).toMatchObject({ diff: expect.stringContaining('root@cache01') });

    const again = await icbd('install', 'trust', '--dry-run', '--json');
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as TrustPlanOut).changes).toBe(0);
    const text = await icbd('install', 'trust', '--yes');
    expect(text.stdout).toMatch(/Nothing to do: every installed node trusts every other/);
  });
});
