/**
 * An upload through the window (browser mode) against the lab: the Transfers view's "Upload
 * file…" form sends a file of this machine into an image's working subvolume on imgs, and its
 * row, marked as an upload, reaches 100 %.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../../electron/core/core.ts';
import { labDown } from '../../electron/core/lab/index.ts';
import { prepareReplication } from '../lab/replication-fixture.ts';
import { labWithHosts } from '../lab/session.ts';
import { buildRenderer, launchChromium, openWatchedPage, screenshots, startBrowserMode, type BrowserMode } from './browser.ts';

const labDir = mkdtempSync(join(tmpdir(), 'icbd-e2e-upload-lab-'));
const home = mkdtempSync(join(tmpdir(), 'icbd-e2e-upload-'));
const local = mkdtempSync(join(tmpdir(), 'icbd-e2e-upload-files-'));
const disk = join(local, 'win10.img');
process.env.ICBD_LAB_DIR = labDir;
let server: BrowserMode;
let browser: Browser;
let page: Page;
let problems: string[];
let core: Core;

beforeAll(async () => {
  await buildRenderer();
  // Random data: the upload takes long enough for the row to be seen running.
  execFileSync('sh', ['-c', 'head -c 800M /dev/urandom > "$1"', 'sh', disk]);
  core = new Core({ home, door: 'cli', asker: { askHostKey: async () => false, askSecret: async () => undefined } });
  const lab = await labWithHosts(core, { dir: labDir, caches: 1 });
  await prepareReplication(await core.ssh(), 'imgs', lab.hosts.filter((h) => h.role === 'cache'), { keys: false });
  await core.call('replication.addImage', { node: 'imgs', image: 'win10' });
  server = await startBrowserMode(home, { ICBD_LAB_DIR: labDir });
  browser = await launchChromium();
  ({ page, problems } = await openWatchedPage(browser));
  await page.goto(server.url);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await core?.close();
  await labDown({ dir: labDir });
  for (const d of [labDir, home, local]) rmSync(d, { recursive: true, force: true });
}, 300_000);

afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

describe('uploads in browser mode', () => {
  it("uploads a file from the Transfers view into an image's working subvolume; the row reaches 100 %", async () => {
    await page.getByRole('link', { name: /Transfers/ }).click();
    await page.getByRole('button', { name: 'Upload file…' }).click();
    const form = page.getByRole('form', { name: 'Upload a file to a node' });
    await expect.poll(() => form.getByLabel('Node', { exact: true }).inputValue()).toBe('imgs');
    await form.getByLabel('Image', { exact: true }).fill('win10');
    await form.getByLabel('File', { exact: true }).fill(disk);
    await expect.poll(() => form.getByLabel('Name on the node').getAttribute('placeholder')).toBe('win10.img');
    await screenshots(page, 'transfers-upload-form');
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => form.count()).toBe(0);

    const item = page.getByRole('listitem', { name: 'Upload win10.img to imgs' });
    await expect.poll(() => item.getByText('running', { exact: true }).count(), { timeout: 30_000 }).toBe(1);
    expect(await item.locator('.op').textContent()).toBe('upload');
    await expect.poll(async () => (await item.locator('.percent').textContent())?.match(/^([1-9]\d?) %$/) !== null, { timeout: 30_000 }).toBe(true);
    await screenshots(page, 'transfers-upload-running');
    await expect.poll(() => item.locator('.state').textContent(), { timeout: 120_000 }).toBe('done');
    expect(await item.locator('.percent').textContent()).toBe('100 %');
    expect(await item.textContent()).toContain('800 MiB of 800 MiB');
    await screenshots(page, 'transfers-upload-done');
    const size = (await (await core.ssh()).run('imgs', ['stat', '-c', '%s', '/var/lib/icbd/shared-vms/win10/win10.img'])).stdout.trim();
    expect(size).toBe(String(800 * 2 ** 20));

    // The same name again is refused before anything is sent, in the form.
    await page.getByRole('button', { name: 'Upload file…' }).click();
    await form.getByLabel('Image', { exact: true }).fill('win10');
    await form.getByLabel('File', { exact: true }).fill(disk);
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/already exists on imgs: choose another name, or overwrite it/);
    await form.getByRole('button', { name: 'Close' }).click();
  });
});
