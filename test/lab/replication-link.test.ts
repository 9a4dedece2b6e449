/**
 * Issue 13 against the demo lab: no collisions (two pushes of one snapshot to one node), no hangs
 * (the tcp transport's deadline, its authentication, a sender that dies before connecting) and the
 * rate limit. The lab lives in its own directory, so this file can run beside any other lab.
 */
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../shared/errors.ts';
import type { PushInput } from '../../shared/transfers.ts';
import { onceMoving, replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('repl-link', (core, dir) => replicationLab(core, dir, { caches: 1 }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';

/** A new image on imgs with `mb` MiB of random data, and its snapshot 1. */
async function image(name: string, mb: number): Promise<void> {
  await lab.core.call('replication.addImage', { node: 'imgs', image: name });
  await sh('imgs', 'head -c "$2"M /dev/urandom > "$1/disk.img" && sync', `${WORK}/${name}`, String(mb));
  await lab.core.call('replication.snapshot', { image: name });
}

const sum = async (node: string, p: string) => (await sh(node, 'sha256sum "$1"/disk.img | cut -d" " -f1', p)).trim();

async function expectIntact(img: string) {
  expect(await sum('cache01', `${ROOT}/${img}/1`)).toBe(await sum('imgs', `${ROOT}/${img}/1`));
  const [src, dst] = await lab.core.call('replication.repos', { nodes: ['imgs', 'cache01'] });
  const snap = (r: typeof src) => r!.images.find((i) => i.name === img)!.snapshots.find((s) => s.number === 1)!;
  expect(snap(dst)).toMatchObject({ readOnly: true, receivedUuid: snap(src).uuid });
}

// The pids of the processes of a receive of `path` on the node: they hold its snapshot lock.
const RECEIVERS = `find /proc/[0-9]*/fd -maxdepth 1 -lname "/run/lock/icbd-snapshot$(echo "$1" | tr / -)" 2>/dev/null | cut -d/ -f3 | sort -u`;

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('replication over a real link', () => {
  it('two pushes of one snapshot to one node started at once: one completes, the other is refused naming it, the snapshot intact', async () => {
    await image('dup', 96);
    const input: PushInput = { source: 'imgs', targets: ['cache01'], image: 'dup', compression: 'none' };
    const refused: AppError[] = [];
    const { records } = await untilEnded(lab.core, async () => {
      const both = await Promise.allSettled([lab.core.call('replication.push', input), lab.core.call('replication.push', input)]);
      for (const b of both) if (b.status === 'rejected') refused.push(b.reason as AppError);
      return both.flatMap((b) => (b.status === 'fulfilled' ? b.value.transfers.map((t) => t.id) : []));
    });
    const done = records.filter((r) => r.state === 'done');
    expect(done).toHaveLength(1);
    const winner = done[0]!.id;
    // Refused by the console (the other was queued first) or by the node's lock (both passed the console's check at once).
    const why = [...refused.map((e) => e.message), ...records.filter((r) => r.id !== winner).map((r) => `${r.state}: ${r.error?.message}`)];
    expect(why).toHaveLength(1);
    expect(why[0]).toContain(`transfer ${winner}`);
    expect(why[0]).toMatch(/wait for (it|that transfer) to end.*, or cancel it/);
    if (refused.length === 0) expect(why[0]).toMatch(/^failed: .*nothing of it was received/);
    await expectIntact('dup');
  });

  it('a push from the CLI while the window pushes the same snapshot: refused at once, naming the transfer, audited', async () => {
    await image('cross', 64);
    const input: PushInput = { source: 'imgs', targets: ['cache01'], image: 'cross', compression: 'none' };
    let cli: Awaited<ReturnType<typeof icbd>> | undefined;
    let holder = '';
    // The receive is held still (SIGSTOP) while the CLI, another process on the same data directory, tries.
    const hold = onceMoving(async (u) => {
      holder = u.id;
      const pids = (await sh('cache01', RECEIVERS, `${ROOT}/cross/1`)).split('\n').filter(Boolean);
      expect(pids.length).toBeGreaterThan(0);
      await sh('cache01', 'kill -STOP "$@"', ...pids);
      try {
        cli = await icbd('push', 'imgs:cross@1', '--to', 'cache01', '--compress', 'none');
      } finally {
        await sh('cache01', 'kill -CONT "$@"', ...pids);
      }
    });
    const { records } = await untilEnded(
      lab.core,
      async () => (await lab.core.call('replication.push', input)).transfers.map((t) => t.id),
      hold.during,
    );
    expect(hold.acted).toBe(true);
    expect(records[0]).toMatchObject({ state: 'done' });
    expect(cli!.code, `${cli!.stdout}${cli!.stderr}`).not.toBe(0);
    expect(cli!.stderr).toContain(`(transfer ${holder}, `);
    expect(cli!.stderr).toMatch(/cache01 is already receiving cross@1 from imgs \(transfer .*\): wait for it to end \(icbd transfers\), or cancel it \(icbd cancel /);
    await expectIntact('cross');
    const audit = await lab.core.call('audit.list', { host: 'cache01' });
    expect(audit.find((e) => e.action === 'replication.refused')).toMatchObject({ result: 'failed', detail: expect.stringContaining(records[0]!.id) });
  });
});

