import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../electron/core/core.ts';
import { labDown } from '../../electron/core/lab/index.ts';
import { installLabUp } from '../lab/install-lab.ts';
import { buildRenderer, launchChromium, openWatchedPage, screenshots, startBrowserMode, type BrowserMode } from './browser.ts';

/**
 * Issue 5 through the window: cache01 of a lab of its own goes from an empty disk to verified in
 * the cache-node wizard (browser mode over the same core as Electron), the window is reloaded
 * halfway and resumes, and a second check plans nothing; then home is installed the same way by its
 * role alone. Screenshots of every stage, light and dark.
 */

const labDir = mkdtempSync(join(tmpdir(), 'icbd-e2e-install-lab-'));
const home = mkdtempSync(join(tmpdir(), 'icbd-e2e-install-'));
let server: BrowserMode;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  await buildRenderer();
  // the lab (with the Debian packages in its base) and its hosts in the inventory, by a core of this process
  const core = new Core({ home, door: 'cli', asker: { askHostKey: async () => false, askSecret: async () => undefined } });
  await installLabUp(core, labDir);
  await core.close();
  server = await startBrowserMode(home, { ICBD_LAB_DIR: labDir });
  browser = await launchChromium();
  ({ page, problems } = await openWatchedPage(browser));
  await page.goto(`${server.url}#/install`);
}, 1_800_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await labDown({ dir: labDir });
  for (const dir of [home, labDir]) rmSync(dir, { recursive: true, force: true });
}, 300_000);

afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

const heading = (name: string | RegExp) => page.getByRole('heading', { level: 2, name });
const stage = (name: string | RegExp) => page.getByRole('navigation', { name: 'Cache-node wizard stages' }).getByRole('button', { name });

describe('the cache-node wizard on the lab', () => {
  it('installs cache01 from an empty disk to verified, resuming after a reload, and a second check plans nothing', { timeout: 600_000 }, async () => {
    await heading('Which cache node?').waitFor();
    await screenshots(page, 'wizard-1-host');
    await page.getByRole('button', { name: 'cache01', exact: true }).click();

    await heading('Preflight').waitFor();
    await page.getByText(/Debian GNU\/Linux 12/).first().waitFor();
    await screenshots(page, 'wizard-2-preflight');
    await page.getByRole('button', { name: 'Continue to the disk' }).click();

    await heading('The disk for the iCBD filesystem').waitFor();
    const radios = page.getByRole('radio');
    await expect.poll(() => radios.count()).toBe(1);
    await radios.first().check();
    await screenshots(page, 'wizard-3-disk');
    await page.getByRole('button', { name: 'Continue to the network' }).click();

    await heading('Cache number and networks').waitFor();
    expect(await page.getByLabel('imgs address').inputValue()).toBe('10.213.2.251');
    await page.getByLabel('Client subnet').fill('10.213.101.0/24');
    // the lab's containers share a kernel without NFS: the nfs4 lines are left out
    await page.getByLabel(/Mount home's and rw's NFS exports/).uncheck();
    await page.getByText('The cache answers its clients at 10.213.101.251.').waitFor();
    await screenshots(page, 'wizard-4-network');
    await page.getByRole('button', { name: 'Review the plan' }).click();

    await heading('Review the whole plan').waitFor();
    await page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();

    // closing the window here loses nothing: it opens on the same host and stage
    await page.reload();
    await page.getByRole('button', { name: 'cache01', exact: true }).click();
    await heading('Review the whole plan').waitFor();
    await page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();
    expect(await stage(/Review/).getAttribute('aria-current')).toBe('step');
    const apply = page.getByRole('button', { name: /^Apply \d+ changes$/ });
    expect(await apply.isDisabled()).toBe(true);
    await page.getByLabel(/Type \/dev\/vdb to confirm/).fill('/dev/vdb');
    expect(await apply.isDisabled()).toBe(false);
    await screenshots(page, 'wizard-5-review');
    await apply.click();

    await heading('Apply').waitFor();
    await page.getByRole('button', { name: 'Reboot and verify' }).waitFor({ timeout: 300_000 });
    expect(await page.getByLabel('Command log').textContent()).toContain('ok     mkfs.btrfs -L icbd /dev/vdb');
    await screenshots(page, 'wizard-6-apply');
    await page.getByRole('button', { name: 'Reboot and verify' }).click();

    await heading('Reboot and verify').waitFor();
    await page.getByRole('button', { name: 'Reboot cache01 now' }).click();
    await page.getByText('cache01 came back with every mount and service in place.').waitFor({ timeout: 300_000 });
    await screenshots(page, 'wizard-7-reboot');
    await page.getByRole('button', { name: 'Finish' }).click();

    await heading('cache01 is a cache node').waitFor();
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByText('Checked just now: nothing to do.').waitFor({ timeout: 60_000 });
    expect(await page.getByRole('button', { name: 'Replicate the latest images now' }).isDisabled()).toBe(true);
    await screenshots(page, 'wizard-8-done');
  });

  it('installs home by its role, reboots it, and a second check plans nothing', { timeout: 600_000 }, async () => {
    await page.getByRole('link', { name: 'Install' }).click();
    await page.getByRole('button', { name: 'Any host by role' }).click();
    await page.getByLabel('Host').selectOption('home');
    await expect.poll(() => page.getByLabel('Role').inputValue()).toBe('home');
    await page.getByRole('radio', { name: /\/dev\/vdb/ }).check();
    await page.getByRole('button', { name: 'Check (dry run)' }).click();
    await page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();
    const apply = page.getByRole('button', { name: /^Apply \d+ changes$/ });
    expect(await apply.isDisabled()).toBe(true);
    await page.getByLabel(/Type \/dev\/vdb to confirm/).fill('/dev/vdb');
    await screenshots(page, 'by-role-review');
    await apply.click();
    await page.getByText('home is installed and verified as home.').waitFor({ timeout: 300_000 });
    await page.getByRole('button', { name: 'Reboot home and verify' }).click();
    await page.getByText('home came back with every mount and service in place.').waitFor({ timeout: 300_000 });
    await screenshots(page, 'by-role-rebooted');
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByText('Checked just now: home is a verified home node, nothing to do.').waitFor({ timeout: 60_000 });
  });

  it('shows every change in the Audit view, filtered by host, with the command or the diff', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Host').selectOption('cache01');
    const rows = page.getByRole('row');
    await expect.poll(() => rows.count()).toBeGreaterThan(20);
    await page.getByRole('row').filter({ hasText: 'Reboot' }).first().waitFor();
    const fstab = page.getByRole('row').filter({ hasText: "Write the role's lines to /etc/fstab" }).first();
    await fstab.getByRole('button', { name: 'Details' }).click();
    await page.locator('.diff .add').first().waitFor();
    await screenshots(page, 'audit');
  });
});
