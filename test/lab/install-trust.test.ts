/**
 * Annex 2's SSH table between installed nodes, and the CLI's install command, on a lab of its
 * own. imgs is installed first (cache01 has no key to trust yet: the plan says so), then cache01
 * (which trusts imgs at once); `install trust` then brings imgs up to the table, after which the
 * nodes ssh to each other by name as OpenSSH's strictest client does, and a second trust plans
 * nothing. rw and home are left pristine: trust reports them as not installed, and the CLI's
 * refusals are tried on rw.
 *
 * Replication's node keys are not part of the table: they add replication's own restricted key and
 * leave the table's lines alone, and trust after them plans nothing, also when a node is
 * replicated to at an address of its own. Last, an install and trust refuse each other on the node they share: home's
 * cables are pulled so that both spend a while reading its keys (its trust is not planned: it is
 * not installed), long enough to try the other one meanwhile.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labNames } from '../../electron/core/lab/topology.ts';
import type { InstallPlanOut, InstallRequest, TrustPlanOut } from '../../shared/install.ts';
import { AppError } from '../../shared/errors.ts';
import { installLabUp, LAB_PLATFORM } from './install-lab.ts';
import { labSession } from './session.ts';

const lab = labSession('trust', installLabUp, { timeout: 1_800_000 });
const { icbd, ssh } = lab;
const execFileP = promisify(execFile);

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
  const { jobId } = name === 'install.trust' ? await lab.core.call(name, {}) : await lab.core.call(name, input as InstallRequest);
  const end = await lab.core.jobs.wait(jobId);
  expect(end.error?.message).toBeUndefined();
  return end.result as T;
}

const SSH_FILES = 'cat /root/.ssh/authorized_keys; echo ==; cat /root/.ssh/known_hosts';
/** Both nodes' root authorized_keys and known_hosts, each file's lines sorted: what trust and node keys write. */
const sshFiles = async () =>
  Promise.all(['imgs', 'cache01'].map(async (h) => (await ssh(h, SSH_FILES)).split(/^==$/m).map((f) => f.split('\n').filter(Boolean).sort())));

/** Waits (briefly) until `ok` holds: a job's first records are written after its request has answered. */
async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (const deadline = Date.now() + 30_000; ; ) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const refusal = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('CONFLICT');
  return (err as AppError).message;
};

const trustNotices = (plan: InstallPlanOut) => plan.steps.find((s) => s.id === 'ssh-trust')?.notices.map((n) => n.message) ?? [];

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('SSH trust between installed nodes, and the install CLI', { timeout: 600_000 }, () => {
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
    expect((await lab.core.call('audit.list', { host: 'rw' })).some((e) => e.command?.startsWith('mkfs'))).toBe(false);
  });

  // two installs, each fetching and unpacking the guide's packages through the lab's mirror
  it('installs imgs (told that cache01 has no key yet), then cache01, which accepts imgs at once', { timeout: 1_500_000 }, async () => {
    const imgs = await job<InstallPlanOut>('install.apply', request('imgs'));
    expect(imgs.changes).toBe(0);
    expect(trustNotices(imgs)).toContain('cache01 has no root key yet: trust with it will be completed when it is installed (install trust).');

    const cache = await job<InstallPlanOut>('install.apply', request('cache01'));
    expect(cache.changes).toBe(0);
    expect(trustNotices(cache).some((n) => n.startsWith('imgs'))).toBe(false);
    expect(await ssh('imgs', `${STRICT} cache01 hostname`)).toBe('cache01');
    // imgs was installed before cache01 had a key to accept
    expect(await ssh('cache01', `${STRICT} imgs true 2>&1 && echo reached || echo refused`)).toMatch(/refused/);
  });

  it('install trust plans imgs up to the table with diffs, applies with audit; then ssh works both ways and a second trust plans nothing', async () => {
    const plan = await lab.core.call('install.planTrust', {});
    const imgs = plan.nodes.find((n) => n.host === 'imgs')!;
    const keys = imgs.steps.find((s) => s.id === 'ssh-trust')!.changes;
    expect(keys.map((c) => c.kind === 'file' && c.path)).toEqual(['/root/.ssh/authorized_keys']);
    expect(keys[0]!.kind === 'file' && keys[0]!.diff).toMatch(/^\+from="[\d.,]+" ssh-ed25519 \S+ root@cache01$/m);
    expect(plan.nodes.find((n) => n.host === 'cache01')!.steps.every((s) => s.changes.length === 0)).toBe(true);
    expect(plan.nodes.filter((n) => n.skipped).map((n) => n.host).sort()).toEqual(['home', 'rw']);
    // rw was only planned (by the CLI above), home never touched
    expect(plan.notices.map((n) => n.message).sort()).toEqual([
      'home was not installed from this console: install it, then its trust is set up.',
      'rw has no root key yet: its trust is set up when it is installed.',
    ]);

    const after = await job<TrustPlanOut>('install.trust', {});
    expect(after.changes).toBe(0);
    expect(await ssh('imgs', `${STRICT} cache01 hostname`)).toBe('cache01');
    expect(await ssh('cache01', `${STRICT} imgs hostname`)).toBe('imgs');
    // Each key is accepted from its node's addresses alone: cache01's key, copied to rw, opens nothing on imgs.
    const stolen = await ssh('cache01', 'cat /root/.ssh/id_ed25519');
    const tried = await ssh(
      'rw',
      `umask 077; printf '%s\\n' '${stolen.trim()}' > /tmp/stolen; ` +
        `ssh -n -i /tmp/stolen -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 root@${LAB_PLATFORM.imgs} true 2>&1 && echo reached || echo refused; rm -f /tmp/stolen`,
    );
    expect(tried).toMatch(/Permission denied[\s\S]*refused\s*$/);
    const audit = await lab.core.call('audit.list', { host: 'imgs' });
    expect(audit.find((e) => e.step === 'ssh-trust' && e.path === '/root/.ssh/authorized_keys' && e.result === 'ok')).toMatchObject({ diff: expect.stringContaining('root@cache01') });

    const again = await icbd('install', 'trust', '--dry-run', '--json');
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as TrustPlanOut).changes).toBe(0);
    const text = await icbd('install', 'trust', '--yes');
    expect(text.stdout).toMatch(/Nothing to do: every installed node trusts every other/);
  });

  it("node keys leave the guide's table alone, and the table leaves them alone: replication gets a key of its own, for a receive only", async () => {
    const trusted = await sshFiles();
    const since = new Date().toISOString();
    expect(await lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] })).toEqual([{ node: 'cache01', ok: true, detail: 'imgs reaches cache01 as root' }]);
    const [imgsFiles, cacheFiles] = await sshFiles();
    expect(imgsFiles).toEqual(trusted[0]);
    // cache01 accepts one line more: imgs's replication key, restricted; the table's lines are as they were.
    const added = cacheFiles![0]!.filter((l) => !trusted[1]![0]!.includes(l));
    expect(added).toEqual([expect.stringMatching(/^from="[^"]+",restrict,command="\/usr\/local\/sbin\/icbd-receive" ssh-ed25519 \S+ icbd-replication@imgs$/)]);
    expect(cacheFiles![0]!.filter((l) => !added.includes(l))).toEqual(trusted[1]![0]);
    expect(cacheFiles![1]).toEqual(trusted[1]![1]);
    const audit = await lab.core.call('audit.list', { since });
    expect(audit.map((e) => `${e.host} ${e.step} ${e.path ?? e.command?.split(' ')[0]} ${e.result}`).sort()).toEqual([
      'cache01 replication-receive /root/.ssh/authorized_keys ok',
      'cache01 replication-receive /usr/local/sbin/icbd-receive ok',
      'imgs replication-key ssh-keygen ok',
    ]);
    expect((await lab.core.call('install.planTrust', {})).changes).toBe(0);
    // A second setup changes nothing.
    const again = new Date().toISOString();
    expect(await lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] })).toMatchObject([{ ok: true }]);
    expect(await lab.core.call('audit.list', { since: again })).toEqual([]);
  });

  it('a node replicated to at an address of its own: the table names it by that address too, so node keys and trust agree and the transfer\'s ssh knows it', async () => {
    const extra = '10.213.2.201';
    // from outside: the node's container may not change its own network
    await execFileP('ip', ['-n', labNames(lab.info.slot).hostNs('cache01'), 'addr', 'add', `${extra}/24`, 'dev', 'eth0']);
    await lab.core.call('replication.settings.set', { node: 'cache01', settings: { replicationAddress: extra } });
    const trustOnImgs = async () => (await lab.core.call('install.planTrust', {})).nodes.find((n) => n.host === 'imgs')!.steps.find((s) => s.id === 'ssh-trust')!.changes;
    const [authorized, known] = await trustOnImgs();
    // cache01 may also connect from its new address: imgs accepts its key from there too
    expect(authorized!.kind === 'file' && authorized!.path).toBe('/root/.ssh/authorized_keys');
    expect(authorized!.kind === 'file' && authorized!.diff).toMatch(new RegExp(`^\\+from="[^"]*${extra.replaceAll('.', '\\.')}[^"]*" ssh-ed25519 \\S+ root@cache01$`, 'm'));
    expect(known!.kind === 'file' && known!.path).toBe('/root/.ssh/known_hosts');
    expect(known!.kind === 'file' && known!.diff).toMatch(new RegExp(`^\\+cache01,10\\.213\\.2\\.101,${extra.replaceAll('.', '\\.')} ssh-ed25519 `, 'm'));

    expect(await lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] })).toEqual([{ node: 'cache01', ok: true, detail: 'imgs reaches cache01 as root' }]);
    // Node keys wrote known_hosts as trust would: the accepted key's addresses are trust's own to write.
    expect((await trustOnImgs()).map((c) => c.kind === 'file' && c.path)).toEqual(['/root/.ssh/authorized_keys']);
    expect((await job<TrustPlanOut>('install.trust', {})).changes).toBe(0);
    expect((await lab.core.call('install.planTrust', {})).changes).toBe(0);
    expect(await ssh('imgs', `${STRICT} ${extra} hostname`)).toBe('cache01');
  });

  it('trust is refused while an install runs on a node it changes, and an install while trust holds its node; each works after', async () => {
    await lab.core.call('lab.host', { action: 'cut', host: 'home' });
    try {
      const { jobId } = await lab.core.call('install.apply', request('cache01'));
      const state = await until(() => lab.core.call('install.state', { host: 'cache01' }), (s) => s.run?.jobId === jobId);
      expect(state.run).toMatchObject({ jobId, state: 'running' });
      expect(await refusal(lab.core.call('install.trust', {}))).toMatch(/^SSH trust between the nodes cannot start while a node it changes is busy:\ncache01: an apply is already running \(since .+\); wait for it or cancel it\nThen try again\.$/);
      const installed = await lab.core.jobs.wait(jobId);
      expect(installed.error?.message).toBeUndefined();
      expect(installed.state).toBe('done');

      const { jobId: trustJob } = await lab.core.call('install.trust', {});
      // its holds are taken once it says so
      const holding = await until(() => lab.core.jobs.list().find((j) => j.id === trustJob)!, (j) => j.message === 'Reading every node\'s keys' || j.state !== 'running');
      expect(holding).toMatchObject({ state: 'running', message: 'Reading every node\'s keys' });
      expect(await refusal(lab.core.call('install.apply', request('cache01')))).toMatch(/^cache01: SSH trust between the nodes is being set up on it \(since .+\); wait for that job or cancel it\.$/);
      expect(await refusal(lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] }))).toMatch(/^Setting up node keys cannot start while nodes it changes are busy:\ncache01: SSH trust.*\nimgs: SSH trust/);
      const trust = await lab.core.jobs.wait(trustJob);
      expect(trust.error?.message).toBeUndefined();
      expect((trust.result as TrustPlanOut).changes).toBe(0);
    } finally {
      await lab.core.call('lab.host', { action: 'heal', host: 'home' });
    }
    expect((await job<InstallPlanOut>('install.apply', request('cache01'))).changes).toBe(0);
    expect((await lab.core.call('install.planTrust', {})).changes).toBe(0);
  });
});
