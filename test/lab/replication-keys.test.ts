/**
 * Direct mode between nodes that do not trust each other yet (a fresh installation): the plan
 * says so and offers replication.setupKeys, a push is refused with that offer, and after the
 * keys are set up — replication's own key on imgs, accepted by cache01 for its receive wrapper
 * alone, the cache's host key taken over the console's verified connection — the same push works,
 * while that key gets no shell on cache01. The nodes were never installed from this console: the
 * keys are set up all the same. A lab of its own (1 cache), without the fixture's key step.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import type { TransferRecord } from '../../shared/transfers.ts';
import { replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('keys', (core, dir) => replicationLab(core, dir, { caches: 1, keys: false }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';
const cacheAddress = () => lab.info.hosts.find((h) => h.name === 'cache01')!.address;

/** The shared connection a check leaves open would answer for a minute: close it to test from scratch. */
const closeShared = () => sh('imgs', 'ssh -O exit -o ControlPath="$HOME/.ssh/icbd-%C" "root@$1" 2>/dev/null; true', cacheAddress());

async function pushed(): Promise<TransferRecord> {
  const { records } = await untilEnded(lab.core, async () => {
    const { transfers } = await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'keys' });
    expect(transfers).toHaveLength(1);
    return transfers.map((t) => t.id);
  });
  return records[0]!;
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('direct mode sets up node keys when they are missing', () => {
  beforeAll(async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'keys' });
    await sh('imgs', 'head -c 8M /dev/urandom > "$1/disk.img" && sync', `${WORK}/keys`);
    await lab.core.call('replication.snapshot', { image: 'keys' });
  });

  it('plans the offer and refuses the push, through the core and the CLI', async () => {
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'keys' });
    expect(plan.setupKeys).toEqual({ from: 'imgs', to: ['cache01'] });
    expect(plan.groups).toEqual([]);
    expect(plan.skipped[0]!.reason).toMatch(/imgs's root (does not know cache01's host key|has no key cache01 accepts).*: set up node keys to fix it/);
    // Relay mode needs no keys between the nodes: nothing to offer there.
    expect((await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'keys', mode: 'relay' })).setupKeys).toBeUndefined();

    const refused = await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'keys' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'CONFLICT', detail: { setupKeys: { from: 'imgs', to: ['cache01'] } } });
    const cli = await icbd('push', 'imgs:keys', '--to', 'cache01');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/--setup-keys/);
    expect(await sh('cache01', 'ls "$1" 2>/dev/null | wc -l', `${ROOT}/keys`)).toMatch(/^0/);
  });

  it('sets the keys up (imgs\'s replication key made, the wrapper placed, audited as install steps, the host key as the console verified it), then the push works', async () => {
    const since = new Date().toISOString();
    const results = await lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] });
    expect(results).toEqual([{ node: 'cache01', ok: true, detail: 'imgs reaches cache01 as root' }]);
    const known = await sh('imgs', 'cat /root/.ssh/known_hosts');
    const hostKey = (await sh('cache01', 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(' ').slice(0, 2).join(' ');
    expect(known.split('\n')).toContain(`cache01,${cacheAddress()} ${hostKey}`);
    const pub = (await sh('imgs', 'cat /root/.ssh/id_icbd_replication.pub')).trim();
    expect(pub).toMatch(/^ssh-ed25519 \S+ icbd-replication@imgs$/);
    const line = (await sh('cache01', 'grep -F "$1" /root/.ssh/authorized_keys', pub)).trim();
    expect(line).toMatch(/^from="[0-9.,]+",restrict,command="\/usr\/local\/sbin\/icbd-receive" ssh-ed25519 \S+ icbd-replication@imgs$/);
    expect(line.match(/^from="([^"]+)"/)![1]!.split(',')).toContain(lab.info.hosts.find((h) => h.name === 'imgs')!.address);
    const audit = await lab.core.call('audit.list', { since });
    expect(audit.map((e) => `${e.host} ${e.step} ${e.path ?? e.command?.split(' ')[0]} ${e.result}`).sort()).toEqual([
      'cache01 replication-receive /root/.ssh/authorized_keys ok',
      'cache01 replication-receive /usr/local/sbin/icbd-receive ok',
      'imgs replication-key ssh-keygen ok',
      'imgs ssh-trust /root/.ssh/known_hosts ok',
    ]);

    const done = await pushed();
    expect(done).toMatchObject({ state: 'done', mode: 'direct' });
    const sum = async (node: string) => (await sh(node, 'sha256sum "$1/disk.img" | cut -d" " -f1', `${ROOT}/keys/1`)).trim();
    expect(await sum('cache01')).toBe(await sum('imgs'));

    // A second setup changes nothing: one line per key.
    const again = new Date().toISOString();
    expect(await lab.core.call('replication.setupKeys', { from: 'imgs', to: ['cache01'] })).toMatchObject([{ ok: true }]);
    expect(await lab.core.call('audit.list', { since: again })).toEqual([]);
    expect((await sh('cache01', 'grep -cF "$1" /root/.ssh/authorized_keys', pub)).trim()).toBe('1');
  });

  it('the replication key can only replicate: `ssh cache01 id` with it is refused, a push still works; imgs\'s root key is no way in', async () => {
    const asRoot = (key: string, command: string) =>
      sh('imgs', 'ssh -n -T -i "$1" -o IdentitiesOnly=yes -o BatchMode=yes -o ControlPath=none "root@$2" "$3" 2>&1; echo "exit $?"', key, cacheAddress(), command);
    for (const command of ['id', 'sh -c id', 'true; id', 'receive zstd t1 cache01 /etc /etc/1']) {
      const out = await asRoot('/root/.ssh/id_icbd_replication', command);
      expect(out, command).toMatch(/icbd receive: refused: [^\n]*\nexit 126\n$/);
      expect(out, command).not.toMatch(/uid=0/);
    }
    // restrict: no port forwarding either.
    expect(await sh('imgs', 'timeout 30 ssh -i /root/.ssh/id_icbd_replication -o IdentitiesOnly=yes -o BatchMode=yes -o ControlPath=none -W 127.0.0.1:22 "root@$1" </dev/null 2>&1; echo "exit $?"', cacheAddress())).toMatch(/administratively prohibited[^]*exit 255\n$/);
    // The root key of imgs, which the guide's table would trust, is not in cache01's authorized_keys for replication's sake.
    await sh('imgs', '[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -f /root/.ssh/id_ed25519');
    expect(await asRoot('/root/.ssh/id_ed25519', 'id')).toMatch(/Permission denied.*\nexit 255\n$/s);

    await lab.core.call('replication.snapshot', { image: 'keys' });
    const again = await pushed();
    expect(again, again.error?.message).toMatchObject({ state: 'done', mode: 'direct' });
  });

  it('a forgotten host key alone is found and fixed too; the CLI sets it up with --setup-keys', async () => {
    await sh('imgs', 'rm -f /root/.ssh/known_hosts');
    await closeShared();
    await lab.core.call('replication.snapshot', { image: 'keys' });
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'keys' });
    expect(plan.skipped[0]!.reason).toMatch(/does not know cache01's host key/);
    const cli = await icbd('push', 'imgs:keys', '--to', 'cache01', '--setup-keys');
    expect(cli.stdout).toMatch(/keys set up: imgs reaches cache01/);
    expect(cli.code, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout).toMatch(/keys@3 done on cache01/);
  });

  it('a receive wrapper another console wrote (an update of the console changed it) is found by the plan, not mid-push; --setup-keys writes it anew', async () => {
    // What an older console placed: it answers `true` with no word, and refuses anything else.
    const older = ['#!/bin/sh', 'case "$SSH_ORIGINAL_COMMAND" in true) exit 0 ;; esac', 'echo "icbd receive: refused: true takes no arguments" >&2; exit 126'].join('\n');
    await sh('cache01', 'printf "%s\\n" "$1" > /usr/local/sbin/icbd-receive', older);
    await closeShared();
    await lab.core.call('replication.snapshot', { image: 'keys' });
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'keys' });
    expect(plan.setupKeys).toEqual({ from: 'imgs', to: ['cache01'] });
    expect(plan.skipped[0]!.reason).toBe("imgs's root reaches cache01, whose receive wrapper is not the one this console writes (icbd receive: refused: true takes no arguments): set up node keys to fix it.");
    const cli = await icbd('push', 'imgs:keys', '--to', 'cache01', '--setup-keys');
    expect(cli.code, `${cli.stdout}${cli.stderr}`).toBe(0);
    expect(cli.stdout).toMatch(/keys@4 done on cache01/);
    expect(await sh('cache01', 'cat /usr/local/sbin/icbd-receive')).toContain('this receive wrapper is not the one the console expects');
  });
});
