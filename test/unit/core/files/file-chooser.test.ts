import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserWindow } from 'electron';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Core } from '../../../../electron/core/core.ts';
import { listDirectory } from '../../../../electron/core/files/directory.ts';
import { fileDialogHandlers } from '../../../../electron/main/file-dialog.ts';

/** Choosing a file to upload: the listing browser mode browses, and the window's own dialog. */
const dir = mkdtempSync(join(tmpdir(), 'icbd-file-chooser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('files.list', () => {
  it('lists directories first, then files with their sizes, links followed, and names the parent', async () => {
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'b.iso'), 'x'.repeat(10));
    writeFileSync(join(dir, 'a.qcow2'), 'x'.repeat(3));
    symlinkSync(join(dir, 'images'), join(dir, 'link-to-images'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'broken'));
    const listing = await listDirectory(join(dir, 'images', '..'));
    expect(listing).toEqual({
      path: dir,
      parent: tmpdir(),
      truncated: false,
      entries: [
        { name: 'images', kind: 'dir', size: null },
        { name: 'link-to-images', kind: 'dir', size: null },
        { name: 'a.qcow2', kind: 'file', size: 3 },
        { name: 'b.iso', kind: 'file', size: 10 },
        { name: 'broken', kind: 'other', size: null },
      ],
    });
    expect((await listDirectory('/')).parent).toBeNull();
  });

  it('refuses what is not a readable directory, in words, through the contract', async () => {
    const core = new Core({ home: dir, door: 'browser' });
    const reply = async (input: unknown) => core.dispatch('files.list', input);
    expect(await reply({ path: join(dir, 'missing') })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: `There is no directory ${join(dir, 'missing')} on this machine.` } });
    expect(await reply({ path: join(dir, 'a.qcow2') })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: `${join(dir, 'a.qcow2')} is a file, not a directory.` } });
    expect(await reply({ path: 'relative/dir' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringMatching(/absolute path/) } });
    expect(await reply({ path: '/tmp\n/x' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await reply({ path: 'C:\\Users' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: 'C:\\Users is not an absolute path on this machine.' } });
  });
});

describe('files.pick', () => {
  it('is refused by every door but the window, saying what to do instead', async () => {
    const reply = await new Core({ home: dir, door: 'browser' }).dispatch('files.pick', {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^Only the desktop window has a file dialog/) } });
  });

  it("in the window, is the OS dialog over the window: the chosen file, or null when cancelled", async () => {
    const window = { id: 1 } as unknown as BrowserWindow;
    const dialog = { showOpenDialog: vi.fn() };
    const core = new Core({ home: dir, door: 'electron', doorHandlers: fileDialogHandlers(dialog as never, () => window) });
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: ['/home/op/win10.qcow2'] });
    expect(await core.dispatch('files.pick', { title: 'File to upload' })).toEqual({ ok: true, value: { path: '/home/op/win10.qcow2' } });
    expect(dialog.showOpenDialog).toHaveBeenCalledWith(window, { title: 'File to upload', properties: ['openFile', 'dontAddToRecent'] });
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await core.dispatch('files.pick', {})).toEqual({ ok: true, value: { path: null } });
  });
});
