import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { FileListing } from '../../../../shared/files.ts';
import { fake } from '../../lib/fake-api.ts';
import FileBrowser from './FileBrowser.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const TREE: Record<string, FileListing> = {
  '/home/op': {
    path: '/home/op',
    parent: '/home',
    truncated: false,
    entries: [
      { name: 'images', kind: 'dir', size: null },
      { name: 'notes.txt', kind: 'file', size: 12 },
      { name: 'win10.qcow2', kind: 'file', size: 2 ** 30 },
    ],
  },
  '/home/op/images': { path: '/home/op/images', parent: '/home/op', truncated: false, entries: [{ name: 'netinst.iso', kind: 'file', size: 600 * 2 ** 20 }] },
};

beforeEach(() => {
  fake.answer('files.list', ({ path }) => {
    const listing = TREE[path ?? '/home/op'];
    if (!listing) throw new AppError('NOT_FOUND', `There is no directory ${path} on this machine.`);
    return listing;
  });
});
afterEach(() => fake.reset());

const selected = () => screen.getAllByRole('option').find((o) => o.getAttribute('aria-selected') === 'true')?.textContent?.trim();

describe('the file browser of browser mode', () => {
  it('starts at home with the list focused; arrows move, Enter chooses the file', async () => {
    const onpick = vi.fn();
    render(FileBrowser, { onpick, oncancel: () => {} });
    const list = await screen.findByRole('listbox', { name: 'Files in /home/op' });
    await waitFor(() => expect(document.activeElement).toBe(list));
    expect(screen.getAllByRole('option').map((o) => o.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['▸ images/', '· notes.txt 12 B', '· win10.qcow2 1.00 GiB']);
    expect(selected()).toMatch(/images/);
    const user = userEvent.setup();
    await user.keyboard('{End}');
    expect(selected()).toMatch(/win10\.qcow2/);
    expect(list.getAttribute('aria-activedescendant')).toBe('file-browser-option-2');
    await user.keyboard('{ArrowUp}{ArrowDown}{Enter}');
    expect(onpick).toHaveBeenCalledWith('/home/op/win10.qcow2');
  });

  it('opens a folder with Enter, goes back up with Backspace to the folder it came from, jumps by letter, closes with Escape', async () => {
    const oncancel = vi.fn();
    const onpick = vi.fn();
    render(FileBrowser, { onpick, oncancel });
    await screen.findByRole('listbox', { name: 'Files in /home/op' });
    const user = userEvent.setup();
    await user.keyboard('{Enter}');
    await screen.findByRole('listbox', { name: 'Files in /home/op/images' });
    expect(screen.getByLabelText('Folder')).toHaveProperty('value', '/home/op/images');
    await user.keyboard('{Backspace}');
    await screen.findByRole('listbox', { name: 'Files in /home/op' });
    expect(selected()).toMatch(/images/);
    await user.keyboard('n');
    expect(selected()).toMatch(/notes\.txt/);
    expect(screen.getByRole('button', { name: 'Choose' })).toHaveProperty('disabled', false);
    await user.keyboard('{Escape}');
    expect(oncancel).toHaveBeenCalled();
    expect(onpick).not.toHaveBeenCalled();
  });

  it('starts beside a typed file, and says in words when a typed folder does not exist', async () => {
    render(FileBrowser, { start: '/home/op/images/netinst.iso', onpick: () => {}, oncancel: () => {} });
    await screen.findByRole('listbox', { name: 'Files in /home/op/images' });
    expect(selected()).toMatch(/netinst\.iso/);
    const user = userEvent.setup();
    const folder = screen.getByLabelText('Folder');
    await user.clear(folder);
    await user.type(folder, '/srv/missing{Enter}');
    expect((await screen.findByRole('alert')).textContent).toContain('There is no directory /srv/missing on this machine.');
    expect(screen.getByRole('listbox', { name: 'Files in /home/op/images' })).toBeTruthy();
  });
});
