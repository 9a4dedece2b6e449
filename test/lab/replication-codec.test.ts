/**
 * Issue 13 item 3 against the lab: auto compression measures each receiver's link (a probe of up
 * to 2 s through the transfer's own ssh) and chooses zstd on a 100 Mbit/s site link, none on the
 * unshaped veth, and says why in the plan, the CLI's dry run and the transfer it runs.
 */
import { describe, expect, it } from 'vitest';
import { replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('repl-link', (core, dir) => replicationLab(core, dir, { caches: 2, links: 'cache01=100mbit' }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';

/** The link rate a plan's reason gives, in Mbit/s. */
function measured(reason: string | undefined): number {
  const m = reason?.match(/measured ([\d.]+) ([MG])bit\/s/);
  return m ? Number(m[1]) * (m[2] === 'G' ? 1000 : 1) : NaN;
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('link-aware compression on the lab', () => {
  it('zstd on the 100 Mbit/s link, with its reason in the plan and the dry run; the probe leaves nothing', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'mix' });
    // compressible like a VM image: zeros, OS files, random
    await sh('imgs', '{ head -c 8M /dev/zero; cat /usr/bin/* 2>/dev/null | head -c 12M; head -c 8M /dev/urandom; } > "$1/disk.img" && sync', `${WORK}/mix`);
    await lab.core.call('replication.snapshot', { image: 'mix' });

    const shaped = (await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache01'], image: 'mix' })).groups[0]!;
    console.log(`cache01 (100mbit): ${shaped.codecReason}`);
    expect(shaped.codec).toBe('zstd');
    expect(shaped.codecReason).toMatch(/^zstd -[13]: link to cache01 measured [\d.]+ Mbit\/s \(probe: up to 2 s of 64 MiB of random data over ssh from imgs\)/);
    // a probe is ≤ 2 s of a shared, busy machine: the figure varies, not the decision
    expect(measured(shaped.codecReason)).toBeGreaterThan(40);
    expect(measured(shaped.codecReason)).toBeLessThan(115);
    expect(shaped.commands.at(-1)?.command).toContain(`zstd -${shaped.codecLevel} -q -c`);
    expect(await sh('imgs', 'ls /dev/shm /tmp | grep -c icbd-link || true')).toBe('0\n');

    const dry = await icbd('push', 'imgs:mix', '--to', 'cache01', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/→ cache01: zstd -[13], about .*\n\s+compression zstd -[13]: link to cache01 measured/);
  });

  it('none on the unshaped veth, with its reason', async (ctx) => {
    const fast = (await lab.core.call('replication.planPush', { source: 'imgs', targets: ['cache02'], image: 'mix' })).groups[0]!;
    console.log(`cache02 (unshaped): ${fast.codecReason}`);
    // On a quiet machine ssh over the veth runs at 200+ MB/s; at a load of 25–30 (six labs on 2
    // cores) it was measured at 72–580 Mbit/s, no faster than the shaped link: then the CPU, not
    // the link, is what the probe sees, and this lab cannot show the case.
    if (measured(fast.codecReason) < 400) ctx.skip(`the machine is too busy to tell the unshaped link from a slow one: ${fast.codecReason}`);
    expect([fast.codec, fast.codecLevel]).toEqual(['none', undefined]);
    expect(fast.codecReason).toMatch(/^none: link to cache02 measured [\d.]+ [MG]bit\/s \(probe/);
    expect(fast.commands.at(-1)?.command).not.toMatch(/zstd/);
  });

  it('the push runs with the chosen level and arrives intact; the record names it', async () => {
    const { records } = await untilEnded(lab.core, async () => (await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'mix' })).transfers.map((t) => t.id));
    const done = records[0]!;
    expect(done).toMatchObject({ operation: 'push', state: 'done', codec: 'zstd' });
    expect(done.operation === 'push' && [1, 3].includes(done.codecLevel ?? 0)).toBe(true);
    const sum = async (node: string) => (await sh(node, 'sha256sum "$1"/disk.img | cut -d" " -f1', `${ROOT}/mix/1`)).trim();
    expect(await sum('cache01')).toBe(await sum('imgs'));
    const listed = await icbd('transfers');
    expect(listed.stdout).toMatch(/zstd -[13]/);
  });
});
