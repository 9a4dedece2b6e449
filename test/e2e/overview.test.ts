/**
 * Issue 14 item 7 in Chromium against the lab: the window opens on the overview, which shows the
 * lab's nodes with their btrfs disk use, a cache behind imgs and one that holds nothing; a host cut
 * off becomes a failure with what to do, "Mark as seen" clears it; `icbd status` says the same.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { labCut, labHeal } from '../../electron/core/lab/index.ts';
import type { Overview } from '../../shared/overview.ts';
import { prepareReplication, untilEnded } from '../lab/replication-fixture.ts';
import { labSession, labWithHosts } from '../lab/session.ts';
import { browserSession, cli, screenshots } from './browser.ts';

const lab = labSession(
  'e2e-ov',
  async (core, dir) => {
    const info = await labWithHosts(core, { dir, caches: 2 });
    await prepareReplication(await core.ssh(), 'imgs', info.hosts.filter((h) => h.role === 'cache'));
    return info;
  },
  { timeout: 900_000 },
);

// win10@1..3 on imgs; cache01 got @1 only (two behind), cache02 nothing.
beforeAll(async () => {
  await lab.core.call('replication.addImage', { node: 'imgs', image: 'win10' });
  for (let i = 0; i < 3; i++) {
    await lab.sh('imgs', 'head -c 4M /dev/urandom > "$1/disk.img" && sync', '/var/lib/icbd/shared-vms/win10');
    await lab.core.call('replication.snapshot', { image: 'win10' });
  }
  const { records } = await untilEnded(lab.core, async () => (await lab.core.call('replication.push', { source: 'imgs', targets: ['cache01'], image: 'win10', number: 1 })).transfers.map((t) => t.id));
  expect(records.map((r) => r.state)).toEqual(['done']);
}, 300_000);

// No hash: the window's first view.
const ui = browserSession('overview', { home: () => lab.home });

const status = async (...args: string[]) => {
  const r = await cli(ui.home, 'status', '--json', ...args);
  return { code: r.code, overview: JSON.parse(r.stdout) as Overview };
};

describe('the overview in browser mode', () => {
  it('opens on the overview: the lab nodes with btrfs disk use, cache01 two behind imgs, cache02 holding nothing', async () => {
    const p = ui.page;
    await expect.poll(() => p.getByRole('heading', { level: 1 }).textContent(), { timeout: 30_000 }).toBe('Overview');
    const nodes = p.getByRole('region', { name: 'Nodes' });
    await nodes.waitFor({ timeout: 60_000 });
    for (const name of ['imgs', 'cache01', 'cache02']) {
      const row = nodes.getByRole('row').filter({ has: p.getByRole('rowheader', { name, exact: true }) });
      await expect.poll(() => row.getByRole('meter').count(), { timeout: 60_000 }).toBe(1);
      expect(await row.textContent()).toMatch(/up.*\d+ %.*(MiB|GiB)/);
    }
    const lag = p.getByRole('region', { name: 'Caches against imgs' });
    const cells = (cache: string) => lag.getByRole('row').filter({ hasText: cache }).getByRole('cell').allTextContents();
    expect((await cells('cache01')).slice(0, 5)).toEqual(['cache01', 'behind', '2', '1', '3']);
    expect((await cells('cache02')).slice(0, 5)).toEqual(['cache02', 'none', '3', '–', '3']);
    await screenshots(p, 'overview');

    const { overview } = await status();
    const disk = (host: string) => overview.nodes.find((n) => n.host === host)!.disk!;
    for (const host of ['imgs', 'cache01', 'cache02']) {
      expect(disk(host).sizeBytes).toBeGreaterThan(0);
      expect(disk(host).freeBytes).toBeLessThan(disk(host).sizeBytes);
      expect(disk(host).usedBytes).toBeGreaterThan(0);
    }
    // imgs holds three 4 MiB snapshots' data, cache01 one, cache02 none.
    expect(disk('imgs').usedBytes).toBeGreaterThan(disk('cache02').usedBytes + 8 * 2 ** 20);
    expect(overview.lag.map((l) => [l.cache, l.state, l.missing, l.newest])).toEqual([
      ['cache01', 'behind', 2, 1],
      ['cache02', 'none', 3, null],
    ]);
  });

  it('a host cut off is a failure with what to do; Mark as seen clears it, icbd status --ack as well', async () => {
    const p = ui.page;
    await labCut('cache02', { dir: lab.dir });
    try {
      const failures = p.getByRole('region', { name: /^Failures/ });
      await expect
        .poll(
          async () => {
            await p.getByRole('button', { name: 'Refresh' }).click();
            return failures.textContent();
          },
          { timeout: 120_000, interval: 5000 },
        )
        .toContain('What to do: Check that cache02 is on and reachable');
      await screenshots(p, 'overview-failure');
      const cut = await status();
      expect(cut.code).toBe(1);
      expect(cut.overview.failures.map((f) => `${f.kind} ${f.subject}`)).toContain('host cache02');
      expect(cut.overview.nodes.find((n) => n.host === 'cache02')!.state).toBe('down');

      await failures.getByRole('button', { name: 'Mark as seen' }).click();
      await expect.poll(() => p.getByRole('region', { name: /^Failures since/ }).count(), { timeout: 60_000 }).toBe(1);
      // A host that is still down is still a failure: the mark hides old failed transfers, not the present.
      expect(await p.getByRole('region', { name: /^Failures since/ }).textContent()).toContain('cache02');
    } finally {
      await labHeal('cache02', { dir: lab.dir });
    }
    const acked = await status('--ack');
    expect(acked.overview.lastLook).not.toBeNull();
    const after = await status();
    expect(after.overview.lastLook).toBe(acked.overview.at);
  });
});
