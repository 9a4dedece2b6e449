/**
 * Issue 14 items 3 and 4 against the lab: retention on a cache with 8 snapshots keeps exactly the
 * right ones and the next push stays incremental; a push that cannot fit on a receiver's btrfs is
 * refused before anything is sent. Its own lab directory, so it runs beside any other lab file.
 */
import { describe, expect, it } from 'vitest';
import type { PushInput } from '../../shared/transfers.ts';
import { replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('retn', (core, dir) => replicationLab(core, dir, { caches: 1 }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';

const push = (input: PushInput) =>
  untilEnded(lab.core, async () => (await lab.core.call('replication.push', input)).transfers.map((t) => t.id));

/** Rewrites 1 MiB of the image on imgs and snapshots it. */
async function change(image: string): Promise<void> {
  await sh('imgs', 'head -c 1M /dev/urandom >> "$1/disk.img" && sync', `${WORK}/${image}`);
  await lab.core.call('replication.snapshot', { image });
}

const numbers = async (node: string, image: string) => {
  const [repo] = await lab.core.call('replication.repos', { nodes: [node] });
  return repo!.images.find((i) => i.name === image)?.snapshots.map((s) => s.number) ?? [];
};

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('retention and room on the lab', () => {
  it('a cache with 8 snapshots and keep 3 keeps 6-8; the next push is still incremental', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'ret' });
    for (let n = 1; n <= 8; n++) {
      await change('ret');
      const { records } = await push({ source: 'imgs', targets: ['cache01'], image: 'ret' });
      expect(records[0]).toMatchObject({ state: 'done', number: n });
    }
    expect(await numbers('cache01', 'ret')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const set = await icbd('replication', 'retain', 'cache01', '--keep', '3', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout).settings.retention).toEqual({ keep: 3 });

    const dry = await icbd('prune', 'cache01', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/cache01\s+ret\s+8\s+keep\s+the newest: what cache01 serves its clients; the parent of the next incremental push from imgs; among the newest 3/);
    expect(dry.stdout).toMatch(/cache01\s+ret\s+5\s+would delete\s+not kept by the policy \(keep the newest 3\)/);
    expect(await numbers('cache01', 'ret')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const report = await lab.core.call('replication.prune', { node: 'cache01' });
    const verdicts = report[0]!.images.find((i) => i.image === 'ret')!.snapshots;
    expect(verdicts.filter((s) => s.deleted).map((s) => s.number)).toEqual([5, 4, 3, 2, 1]);
    expect(await numbers('cache01', 'ret')).toEqual([6, 7, 8]);
    expect(await numbers('imgs', 'ret')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const audit = await lab.core.call('audit.list', { host: 'cache01' });
    const pruned = audit.filter((e) => e.action === 'snapshot.prune');
    expect(pruned.map((e) => [e.result, e.command])).toEqual(expect.arrayContaining([1, 2, 3, 4, 5].map((n) => ['ok', `btrfs subvolume delete ${ROOT}/ret/${n}`])));
    expect(pruned.every((e) => /keep the newest 3/.test(e.detail ?? ''))).toBe(true);

    await change('ret');
    const next = await push({ source: 'imgs', targets: ['cache01'], image: 'ret' });
    expect(next.records[0]).toMatchObject({ state: 'done', number: 9, kind: 'incremental', parentNumber: 8 });
  });

  it('a push that cannot fit on the cache is refused before anything is sent, naming what retention would free', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'big' });
    await sh('imgs', 'head -c 300M /dev/urandom > "$1/disk.img" && sync', `${WORK}/big`);
    await lab.core.call('replication.snapshot', { image: 'big' });
    await sh('cache01', 'avail=$(df --output=avail -B1 "$1" | tail -1); fallocate -l $((avail - 150*1024*1024)) "$1/filler"; sync', '/var/lib/icbd');
    try {
      await icbd('replication', 'retain', 'cache01', '--keep', '1');
      const before = (await lab.core.call('audit.list', { host: 'cache01' })).length;
      const { plan, transfers } = await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'big' });
      expect(transfers).toEqual([]);
      expect(plan.groups).toEqual([]);
      expect(plan.skipped).toHaveLength(1);
      expect(plan.skipped[0]!.reason).toMatch(/^cache01 has .* free \(btrfs filesystem usage, estimated\) and this stream needs about 30\d(\.\d)? MiB .*nothing was sent\. Its retention policy would delete ret@8, ret@7, ret@6 \(icbd prune cache01 --dry-run/);
      expect(await sh('cache01', '[ -e "$1" ] && echo yes || echo no', `${ROOT}/big/1`)).toBe('no\n');
      expect((await lab.core.call('audit.list', { host: 'cache01' })).length).toBe(before);
      const cli = await icbd('push', 'imgs:big', '--to', 'cache01');
      expect(cli.stdout).toMatch(/skipped cache01: cache01 has .* free/);
    } finally {
      await sh('cache01', 'rm -f "$1/filler"; sync', '/var/lib/icbd');
    }
  });

  it('retiring an image: refused on imgs while a cache carries it; one no cache holds goes whole, audited', async () => {
    const refused = await icbd('snapshot', 'retire', 'imgs', 'ret');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cache01 still carries ret \(\d+ snapshots\): retire it there first/);
    expect(await numbers('imgs', 'ret')).toHaveLength(9);
    const done = await icbd('snapshot', 'retire', 'imgs', 'big', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual({ retired: 'imgs:big', overridden: [] });
    expect(await sh('imgs', 'ls -d "$1" "$2" 2>/dev/null; true', `${ROOT}/big`, `${WORK}/big`)).toBe('');
    const audit = await lab.core.call('audit.list', { host: 'imgs' });
    expect(audit.find((e) => e.action === 'image.retire')).toMatchObject({ result: 'ok' });
  });
});
