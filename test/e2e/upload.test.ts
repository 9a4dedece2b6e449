/**
 * An upload through the window (browser mode) against the lab: the Transfers view's "Upload
 * file…" form, its file chosen with the browser of this machine's files, sends it into an image's
 * working subvolume on imgs, and its row, marked as an upload, reaches 100 %.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { replicationLab } from '../lab/replication-fixture.ts';
import { labSession } from '../lab/session.ts';
import { tempDirs } from '../temp-dirs.ts';
import { browserSession, screenshots } from './browser.ts';

const lab = labSession(
  'e2e-upload',
  async (core, dir) => {
    const info = await replicationLab(core, dir, { caches: 1, keys: false });
    await core.call('replication.addImage', { node: 'imgs', image: 'win10' });
    return info;
  },
  { timeout: 900_000 },
);
const dirs = tempDirs('e2e-upload', ['files']);
const disk = () => join(dirs.files, 'win10.img');
// Random data: the upload takes long enough for the row to be seen running.
beforeAll(() => void execFileSync('sh', ['-c', 'head -c 800M /dev/urandom > "$1/win10.img" && mkdir "$1/isos"', 'sh', dirs.files]));
const ui = browserSession('upload', { home: () => lab.home, hash: '#/hosts' });

describe('uploads in browser mode', () => {
  it("uploads a file from the Transfers view into an image's working subvolume; the row reaches 100 %", async () => {
    await ui.page.getByRole('link', { name: /Transfers/ }).click();
    await ui.page.getByRole('button', { name: 'Upload file…' }).click();
    const form = ui.page.getByRole('form', { name: 'Upload a file to a node' });
    await expect.poll(() => form.getByLabel('Node', { exact: true }).inputValue()).toBe('imgs');
    await form.getByLabel('Image', { exact: true }).fill('win10');
    // The file is chosen with the browser of the serving machine's files, by keyboard.
    await form.getByRole('button', { name: 'Browse…' }).click();
    const chooser = form.getByRole('region', { name: "Choose a file on the console's machine" });
    const folder = chooser.getByLabel('Folder');
    await expect.poll(() => folder.inputValue()).toMatch(/^\//);
    await folder.fill(dirs.files);
    await folder.press('Enter');
    const list = chooser.getByRole('listbox', { name: `Files in ${dirs.files}` });
    await expect.poll(() => list.getByRole('option').allTextContents()).toEqual([expect.stringContaining('isos/'), expect.stringMatching(/win10\.img\s*800 MiB/)]);
    await list.press('End');
    expect(await list.getByRole('option', { selected: true }).textContent()).toContain('win10.img');
    await screenshots(ui.page, 'transfers-upload-browse');
    await list.press('Enter');
    await expect.poll(() => form.getByLabel('File', { exact: true }).inputValue()).toBe(disk());
    expect(await chooser.count()).toBe(0);
    await expect.poll(() => form.getByLabel('Name on the node').getAttribute('placeholder')).toBe('win10.img');
    await screenshots(ui.page, 'transfers-upload-form');
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => form.count()).toBe(0);

    const item = ui.page.getByRole('listitem', { name: 'Upload win10.img to imgs' });
    await expect.poll(() => item.getByText('running', { exact: true }).count(), { timeout: 30_000 }).toBe(1);
    expect(await item.locator('.op').textContent()).toBe('upload');
    await expect.poll(async () => (await item.locator('.percent').textContent())?.match(/^([1-9]\d?) %$/) !== null, { timeout: 30_000 }).toBe(true);
    await screenshots(ui.page, 'transfers-upload-running');
    await expect.poll(() => item.locator('.state').textContent(), { timeout: 120_000 }).toBe('done');
    expect(await item.locator('.percent').textContent()).toBe('100 %');
    expect(await item.textContent()).toContain('800 MiB of 800 MiB');
    await screenshots(ui.page, 'transfers-upload-done');
    const size = (await (await lab.core.ssh()).run('imgs', ['stat', '-c', '%s', '/var/lib/icbd/shared-vms/win10/win10.img'])).stdout.trim();
    expect(size).toBe(String(800 * 2 ** 20));

    // The same name again is refused before anything is sent, in the form.
    await ui.page.getByRole('button', { name: 'Upload file…' }).click();
    await form.getByLabel('Image', { exact: true }).fill('win10');
    await form.getByLabel('File', { exact: true }).fill(disk());
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/already exists on imgs: choose another name, or overwrite it/);
    await form.getByRole('button', { name: 'Close' }).click();
  });
});
