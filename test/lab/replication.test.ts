/**
 * Issue 6 against the demo lab: pushes imgs → caches through the core as the operator runs them
 * (direct, relay, tcp, fan-out, compression), and every way a transfer can end badly (cancel,
 * a cut link, a full disk) leaves no partial snapshot, an intact source, and a retry that works.
 * The lab lives in its own directory, so this file can run beside any other lab.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import { cellsOf, rowsOf } from '../../shared/replication.ts';
import type { PushInput, TransferRecord } from '../../shared/transfers.ts';
import { cutWhileMoving, onceMoving, replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('repl', (core, dir) => replicationLab(core, dir, { caches: 2 }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';

/** A new image on imgs with `mb` MiB of data (random: no codec shrinks it), and its snapshot 1. */
async function image(name: string, mb: number): Promise<void> {
  await lab.core.call('replication.addImage', { node: 'imgs', image: name });
  await sh('imgs', 'head -c "$2"M /dev/urandom > "$1/disk.img" && head -c 1M /dev/zero >> "$1/disk.img" && sync', `${WORK}/${name}`, String(mb));
  await lab.core.call('replication.snapshot', { image: name });
}

const sum = async (node: string, p: string) => (await sh(node, 'sha256sum "$1"/disk.img | cut -d" " -f1', p)).trim();
const exists = async (node: string, p: string) => (await sh(node, '[ -e "$1" ] && echo yes || echo no', p)).trim() === 'yes';

/** Every transfer.update until each record of the push has ended; `during` sees each update. */
const push = (input: PushInput, during?: (r: TransferRecord) => Promise<void>) =>
  untilEnded(
    lab.core,
    async () => {
      const { plan, transfers } = await lab.core.call('replication.push', input);
      // A push whose stream size could not be estimated has no percent: the plan says why.
      expect(plan.warnings.filter((w) => w.startsWith('No size estimate'))).toEqual([]);
      return transfers.map((t) => t.id);
    },
    during,
  );

async function repoSnapshot(node: string, img: string, n: number) {
  const [repo] = await lab.core.call('replication.repos', { nodes: [node] });
  return repo!.images.find((i) => i.name === img)?.snapshots.find((s) => s.number === n);
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('replication on the lab', () => {
  it('pushes full, then incremental: data equal, received_uuid the source uuid, audited', async () => {
    await image('win10', 64);
    const full = await push({ source: 'imgs', targets: ['cache01'], image: 'win10' });
    expect(full.records).toHaveLength(1);
    expect(full.records[0]).toMatchObject({ state: 'done', kind: 'full', parentNumber: null, fraction: 1 });
    expect(full.records[0]!.totalBytes).toBeGreaterThan(64 * 2 ** 20);
    expect(await sum('cache01', `${ROOT}/win10/1`)).toBe(await sum('imgs', `${ROOT}/win10/1`));
    const [src1, dst1] = [await repoSnapshot('imgs', 'win10', 1), await repoSnapshot('cache01', 'win10', 1)];
    expect(dst1).toMatchObject({ readOnly: true, receivedUuid: src1!.uuid });

    // 2 % of the blocks rewritten
    await sh('imgs', 'dd if=/dev/urandom of="$1/disk.img" bs=64K count=21 seek=100 conv=notrunc status=none && sync', `${WORK}/win10`);
    await lab.core.call('replication.snapshot', { image: 'win10' });
    const inc = await push({ source: 'imgs', targets: ['cache01'], image: 'win10' });
    expect(inc.records[0]).toMatchObject({ state: 'done', kind: 'incremental', parentNumber: 1, number: 2 });
    expect(inc.records[0]!.bytes).toBeLessThan(full.records[0]!.bytes * 0.1);
    expect(await sum('cache01', `${ROOT}/win10/2`)).toBe(await sum('imgs', `${ROOT}/win10/2`));
    expect(await repoSnapshot('cache01', 'win10', 2)).toMatchObject({ readOnly: true, receivedUuid: (await repoSnapshot('imgs', 'win10', 2))!.uuid });

    const audit = await lab.core.call('audit.list', {});
    expect(audit.filter((e) => e.action === 'replication.receive' && e.host === 'cache01' && e.result === 'ok')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'snapshot.create' && e.host === 'imgs').length).toBeGreaterThanOrEqual(2);
  });

  it('a second push of the same snapshot is a no-op, saying why', async () => {
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'win10' });
    expect(plan.groups).toEqual([]);
    expect(plan.skipped).toEqual([{ node: 'cache01', reason: 'cache01 already has win10@2.' }]);
    const again = await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'win10' });
    expect(again.transfers).toEqual([]);
  });

  it("shows each copy's real lineage (the transfer that brought it, its parent) and its disk use by btrfs filesystem du", async () => {
    const tree = await lab.core.call('replication.tree', {});
    const rows = rowsOf(tree.images.find((i) => i.name === 'win10')!);
    // The working copy's uuid is every snapshot's btrfs parent_uuid on imgs: the tree shows the previous snapshot instead.
    expect(rows.map((r) => [r.number, r.parent, r.sent?.kind, r.sent?.parent])).toEqual([
      [2, 1, 'incremental', 1],
      [1, null, 'full', null],
    ]);
    // This lab turns quotas on (replication-fixture.ts): the qgroup's size is there too, and the Size column prefers it.
    expect(rows[0]!.referencedBytes).toBeGreaterThan(64 * 2 ** 20);

    const info = await lab.core.call('replication.snapshotInfo', { image: 'win10', number: 2 });
    const copy = (node: string) => info.copies.find((c) => c.node === node)!;
    expect(copy('imgs')).toMatchObject({ state: 'present', parent: 1, lineage: 'taken on imgs after win10@1' });
    const history = (await lab.core.call('transfers.list', {})).filter((t) => t.operation === 'push' && t.image === 'win10' && t.number === 2);
    expect(copy('cache01')).toMatchObject({ state: 'present', parent: 1, came: { transfer: history[0]!.id, from: 'imgs', kind: 'incremental', parent: 1 } });
    expect(copy('cache01').lineage).toMatch(/^from imgs by transfer [0-9a-f]{8} on .* UTC: incremental stream from 1, [\d.]+ [KM]iB$/);
    expect(copy('cache01').retention).toMatchObject({ keep: true, policy: 'keep the newest 3' });
    expect(copy('cache01').retention!.why).toContain('the newest: what cache01 serves its clients');
    expect(copy('cache02')).toMatchObject({ state: 'missing', lineage: 'not here' });

    const used = await lab.core.call('replication.measure', { node: 'cache01', image: 'win10', number: 2 });
    expect(used.path).toBe(`${ROOT}/win10/2`);
    expect(Math.abs(used.totalBytes - 65 * 2 ** 20)).toBeLessThan(2 ** 20);
    // What the incremental push rewrote (21 × 64 KiB) is all that only win10@2 holds on cache01, measured right after the receive.
    expect(used.exclusiveBytes).toBeGreaterThanOrEqual(21 * 65_536);
    expect(used.exclusiveBytes).toBeLessThan(4 * 2 ** 20);
    expect(used.sharedBytes).toBeGreaterThan(60 * 2 ** 20);
    expect(used.sharedBytes).toBeLessThanOrEqual(used.totalBytes - used.exclusiveBytes);
    await expect(lab.core.call('replication.measure', { node: 'cache01', image: 'win10', number: 9 })).rejects.toThrow(/Measuring win10@9 .* on cache01 failed: .*No such file/);

    const cli = await icbd('snapshot', 'info', 'win10@2', '--du', 'cache01');
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/cache01\s+yes\s+1\s+kept\s+from imgs by transfer [0-9a-f]{8} on .*: incremental stream from 1/);
    expect(cli.stdout).toMatch(/cache01 \/var\/lib\/icbd\/.snap\/win10\/2: [\d.]+ MiB referenced, [\d.]+ [KM]iB exclusive/);
  });

  it('fans out to two caches reading the source once (direct, then relay), with compression', async () => {
    await image('fan', 48);
    const direct = await push({ source: 'imgs', targets: ['cache01', 'cache02'], image: 'fan', compression: 'lz4' });
    expect(direct.records).toHaveLength(1);
    const [rec] = direct.records;
    expect(rec).toMatchObject({ state: 'done', codec: 'lz4', targets: [{ node: 'cache01', state: 'done' }, { node: 'cache02', state: 'done' }] });
    // One stream, counted once (not once per receiver) from the sender's I/O counters, exactly.
    expect(rec!.bytes).toBeLessThan(rec!.totalBytes! * 1.05);
    expect(rec!.bytes).toBe(Number(await sh('imgs', 'btrfs send -q "$1" | wc -c', `${ROOT}/fan/1`)));
    for (const c of ['cache01', 'cache02']) expect(await sum(c, `${ROOT}/fan/1`)).toBe(await sum('imgs', `${ROOT}/fan/1`));

    await sh('imgs', 'dd if=/dev/urandom of="$1/disk.img" bs=64K count=8 seek=10 conv=notrunc status=none && sync', `${WORK}/fan`);
    await lab.core.call('replication.snapshot', { image: 'fan' });
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01', 'cache02'], image: 'fan', mode: 'relay', compression: 'zstd' });
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]!.commands.filter((c) => c.command.includes('btrfs send'))).toHaveLength(1);
    const relay = await push({ source: 'imgs', targets: ['cache01', 'cache02'], image: 'fan', mode: 'relay', compression: 'zstd' });
    expect(relay.records[0]).toMatchObject({ state: 'done', mode: 'relay', kind: 'incremental', codec: 'zstd' });
    for (const c of ['cache01', 'cache02']) expect(await sum(c, `${ROOT}/fan/2`)).toBe(await sum('imgs', `${ROOT}/fan/2`));
  });

  it('tcp transport: said to be unencrypted in the plan, and it works', async () => {
    // The caches reach imgs on iCBD-Net; the receivers accept the stream from that address only.
    await lab.core.call('replication.settings.set', { node: 'imgs', settings: { replicationAddress: '10.213.2.251' } });
    await image('tcpimg', 16);
    const plan = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache02'], image: 'tcpimg', mode: 'tcp' });
    expect(plan.encrypted).toBe(false);
    expect(plan.warnings.join(' ')).toMatch(/unencrypted/);
    const tcp = await push({ source: 'imgs', targets: ['cache02'], image: 'tcpimg', mode: 'tcp' });
    expect(tcp.records[0]).toMatchObject({ state: 'done', mode: 'tcp' });
    expect(await sum('cache02', `${ROOT}/tcpimg/1`)).toBe(await sum('imgs', `${ROOT}/tcpimg/1`));
  });

  it('never uses a diverged same-numbered snapshot as parent, and reports it', async () => {
    await image('div', 8);
    // cache02 makes its own div@1: same number, another identity.
    await sh('cache02', 'mkdir -p "$1" && btrfs -q subvolume create "$1/w" && btrfs -q subvolume snapshot -r "$1/w" "$1/1" && btrfs -q subvolume delete "$1/w"', `${ROOT}/div`);
    await lab.core.call('replication.snapshot', { image: 'div' });
    const plan1 = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache02'], image: 'div', number: 1 });
    expect(plan1.groups).toEqual([]);
    expect(plan1.skipped[0]!.reason).toMatch(/diverged/);
    const plan2 = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache02'], image: 'div', number: 2 });
    expect(plan2.groups[0]).toMatchObject({ kind: 'full', parent: null });
    const tree = await lab.core.call('replication.tree', {});
    const row = rowsOf(tree.images.find((i) => i.name === 'div')!).find((r) => r.number === 1)!;
    const nodes = tree.nodes.map((n) => n.name);
    expect(cellsOf(row, nodes).find((c) => c.node === 'cache02')).toMatchObject({ state: 'diverged' });
    expect(cellsOf(row, nodes).find((c) => c.node === 'cache02')!.reason).toMatch(/it shares no snapshot with imgs; it is never used as a parent/);
    const done = await push({ source: 'imgs', targets: ['cache02'], image: 'div', number: 2 });
    expect(done.records[0]).toMatchObject({ state: 'done', kind: 'full' });
  });

  /** No staged stream is left on the node (resumable pushes stage in `<root>/.icbd-staging`). */
  const expectNothingStaged = async (node: string) => expect((await sh(node, 'ls -A "$1" 2>/dev/null; true', `${ROOT}/.icbd-staging`)).trim()).toBe('');

  /** After a failed or cancelled push: nothing at the number on the cache, nothing staged, the source unchanged, a retry works. */
  async function expectCleanRetry(img: string, cache: string, sourceSum: string) {
    expect(await exists(cache, `${ROOT}/${img}/1`)).toBe(false);
    await expectNothingStaged(cache);
    expect(await sum('imgs', `${ROOT}/${img}/1`)).toBe(sourceSum);
    expect(await repoSnapshot('imgs', img, 1)).toMatchObject({ readOnly: true });
    const retry = await push({ source: 'imgs', targets: [cache], image: img });
    expect(retry.records[0]).toMatchObject({ state: 'done' });
    expect(await sum(cache, `${ROOT}/${img}/1`)).toBe(sourceSum);
  }

  it('cancel mid-transfer: no partial subvolume, source intact, a retry succeeds', async () => {
    await image('big', 1000);
    const before = await sum('imgs', `${ROOT}/big/1`);
    const cancel = onceMoving(async (u) => expect(await lab.core.call('transfers.cancel', { id: u.id })).toEqual({ cancelled: true }));
    const r = await push({ source: 'imgs', targets: ['cache01'], image: 'big', compression: 'none' }, cancel.during);
    expect(r.records[0]).toMatchObject({ state: 'cancelled' });
    expect(r.records[0]!.error!.message).toMatch(/^Cancelled\.\ncache01: cancelled; (the partial snapshot \S+ (and the bytes staged for it were|was) deleted|nothing of it was left on disk|the bytes staged for it were deleted); imgs is untouched\.$/);
    expect(r.records[0]!.bytes).toBeLessThan(1000 * 2 ** 20);
    // Audit entries are appended as the transfer ends, not before its last update: wait for them.
    const actions = async () => (await lab.core.call('audit.list', { host: 'cache01', limit: 2 })).map((e) => `${e.action}:${e.result}`).sort();
    await expect.poll(actions).toEqual(['replication.cleanup:ok', 'replication.receive:cancelled']);
    await expectCleanRetry('big', 'cache01', before);
  });

  it('a link cut mid-transfer: the push waits for the node, resumes once the link is back, and verifies; nothing stays staged', async () => {
    const before = await sum('imgs', `${ROOT}/big/1`);
    const link = cutWhileMoving('cache02', lab.dir);
    const r = await push({ source: 'imgs', targets: ['cache02'], image: 'big', compression: 'none' }, link.during);
    expect(await link.healed()).toBe(true);
    expect(r.records[0]).toMatchObject({ state: 'done' });
    expect(r.updates.some((u) => /^link to cache02 down since/.test(u.waiting ?? ''))).toBe(true);
    expect(await sum('cache02', `${ROOT}/big/1`)).toBe(before);
    expect(await repoSnapshot('cache02', 'big', 1)).toMatchObject({ readOnly: true, receivedUuid: (await repoSnapshot('imgs', 'big', 1))!.uuid });
    await expectNothingStaged('cache02');
  });

  const fillCache01 = (leaveMiB: number) =>
    sh('cache01', 'avail=$(df --output=avail -B1 "$1" | tail -1); fallocate -l $((avail - $2*1024*1024)) "$1/filler"; sync', '/var/lib/icbd', String(leaveMiB));
  const freeCache01 = () => sh('cache01', 'rm -f "$1/filler"; sync', '/var/lib/icbd');

  it('a push that cannot fit on the receiver is refused before anything is sent, with the room there is and the room it needs', async () => {
    await image('fill', 300);
    await fillCache01(100);
    try {
      const { plan, transfers } = await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'fill' });
      expect(transfers).toEqual([]);
      expect(plan.skipped).toEqual([{ node: 'cache01', reason: expect.stringMatching(/cache01 has .* free .* needs about .*nothing was sent/) }]);
      expect(await exists('cache01', `${ROOT}/fill/1`)).toBe(false);
    } finally {
      await freeCache01();
    }
  });

  it('a disk that fills up during the push (another writer took the room) fails it, leaves nothing, and a retry after freeing space succeeds', async () => {
    const before = await sum('imgs', `${ROOT}/fill/1`);
    // Capped so that the disk is filled while most of the stream is still to come.
    const fill = onceMoving(async () => void (await fillCache01(100)));
    const r = await push({ source: 'imgs', targets: ['cache01'], image: 'fill', compression: 'none', limitRate: 30 * 2 ** 20 }, fill.during);
    expect(fill.acted).toBe(true);
    expect(r.records[0]).toMatchObject({ state: 'failed' });
    expect(r.records[0]!.error!.message).toMatch(/space|receive/i);
    await freeCache01();
    await expectCleanRetry('fill', 'cache01', before);
  });

  it('hostile image and snapshot names are refused with a clear message; nothing runs', async () => {
    const hostile = ['a b', "it's", 'x;touch /tmp/pwned', '$(touch /tmp/pwned)', '`touch /tmp/pwned`', '../etc', '..', 'ünïcödé', 'a"b', 'a\nb'];
    for (const name of hostile) {
      for (const call of [
        () => lab.core.call('replication.addImage', { node: 'imgs', image: name }),
        () => lab.core.call('replication.snapshot', { image: name }),
        () => lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: name }),
        () => lab.core.call('replication.deleteSnapshot', { node: 'imgs', image: name, number: 1 }),
        () => lab.core.call('replication.settings.set', { node: 'cache01', settings: { images: [name] } }),
      ]) {
        const err = await call().catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('INVALID_INPUT');
        expect((err as AppError).message).toMatch(/image name|cannot contain|starts with/);
      }
    }
    const bad = await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'win10', number: '1;reboot' as unknown as number }).catch((e: unknown) => e);
    expect((bad as AppError).code).toBe('INVALID_INPUT');
    const cli = await icbd('push', 'imgs:x;touch /tmp/pwned@1', '--to', 'cache01');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/cannot contain ";"/);
    for (const n of ['imgs', 'cache01']) expect(await exists(n, '/tmp/pwned')).toBe(false);
  });

  it('the CLI lists the tree, a node, its raw subvolumes and the transfer history', async () => {
    const tree = await icbd('snapshots', '--image', 'win10');
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/IMAGE\s+SNAPSHOT\s+IMGS\s+CACHE01\s+CACHE02/);
    expect(tree.stdout).toMatch(/win10\s+2\s+yes\s+yes\s+-/);
    const raw = await icbd('snapshots', 'cache01', '--subvolumes', '--json');
    const paths = (JSON.parse(raw.stdout) as { subvolumes: { path: string }[] }).subvolumes.map((s) => s.path);
    expect(paths).toEqual(expect.arrayContaining(['Lib', 'Lib/icbd', 'Lib/icbd/.snap', 'Lib/icbd/.snap/win10/1']));
    const list = JSON.parse((await icbd('transfers', '--json')).stdout) as TransferRecord[];
    expect(list.filter((t) => t.state === 'done').length).toBeGreaterThanOrEqual(6);
    expect(list.some((t) => t.state === 'cancelled')).toBe(true);
  });
});
