import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { Host } from '../../../../shared/inventory.ts';
import { connection } from '../../lib/connection.svelte.ts';
import { fake } from '../../lib/fake-api.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import { transferMonitor } from '../../lib/transfers.svelte.ts';
import { uploadRecord } from '../../../../test/fixtures/transfer-records.ts';
import UploadForm from './UploadForm.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const hosts: Host[] = [
  { name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' },
  { name: 'rw', address: '10.0.0.11', port: 22, user: 'root', role: 'rw' },
  { name: 'cache01', address: '10.0.0.21', port: 22, user: 'root', role: 'cache', jump: 'imgs' },
];

beforeEach(async () => {
  fake.answer('hosts.list', () => hosts);
  fake.answer('replication.repos', ({ nodes }) => nodes!.map((node) => ({ node, role: 'imgs', root: '/var/lib/icbd/.snap', exists: true, images: [{ name: 'win10', snapshots: [] }], problems: [] })));
  await hostList.refresh();
  transferMonitor.records = [];
});
afterEach(() => {
  fake.reset();
  connection.info = undefined;
});

describe('the upload form', () => {
  it('offers the nodes with repositories, suggests their images, and queues the upload into an image', async () => {
    fake.answer('transfers.upload', (input) => uploadRecord({ name: input.name ?? 'win10.qcow2' }));
    const onclose = vi.fn();
    render(UploadForm, { onclose });
    const user = userEvent.setup();
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['imgs', 'cache01']);
    await waitFor(() => expect(document.querySelectorAll('#upload-images option')).toHaveLength(1));
    await user.type(screen.getByLabelText('Image'), 'win10');
    await user.type(screen.getByLabelText('File'), '/home/op/win10.qcow2');
    expect(screen.getByLabelText('Name on the node').getAttribute('placeholder')).toBe('win10.qcow2');
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('transfers.upload', { node: 'imgs', file: '/home/op/win10.qcow2', into: { image: 'win10' }, overwrite: false });
    expect(onclose).toHaveBeenCalled();
    expect(transferMonitor.records.map((r) => r.id)).toEqual(['cccccccc-3333']);
  });

  it('sends an ISO to the chosen node, with its name and overwrite', async () => {
    fake.answer('transfers.upload', () => uploadRecord({ into: { iso: true } }));
    render(UploadForm, { onclose: () => undefined });
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Node'), 'cache01');
    await user.click(screen.getByLabelText("the node's ISO subvolume"));
    expect(screen.queryByLabelText('Image')).toBeNull();
    await user.type(screen.getByLabelText('File'), '/isos/debian.iso');
    await user.type(screen.getByLabelText('Name on the node'), 'netinst.iso');
    await user.click(screen.getByLabelText('Replace a file of that name'));
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('transfers.upload', { node: 'cache01', file: '/isos/debian.iso', into: { iso: true }, name: 'netinst.iso', overwrite: true });
  });

  it("puts the core's verdict on the field it is about, and other refusals in a banner; the form stays open", async () => {
    fake.answer('transfers.upload', () => {
      throw new AppError('INVALID_INPUT', 'name: A file name cannot contain "/"', { issues: [{ path: 'name', message: 'A file name cannot contain "/": give the name only, not a path.' }] });
    });
    const onclose = vi.fn();
    render(UploadForm, { onclose });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Image'), 'win10');
    await user.type(screen.getByLabelText('File'), '/home/op/a.img');
    await user.type(screen.getByLabelText('Name on the node'), 'a/b');
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    await screen.findByText(/cannot contain "\/": give the name only/);
    expect(screen.getByLabelText('Name on the node').getAttribute('aria-invalid')).toBe('true');

    fake.answer('transfers.upload', () => {
      throw new AppError('CONFLICT', '/var/lib/icbd/shared-vms/win10/a.img already exists on imgs: choose another name, or overwrite it.');
    });
    await user.clear(screen.getByLabelText('Name on the node'));
    expect(screen.getByLabelText('Name on the node').getAttribute('aria-invalid')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Upload' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/already exists on imgs/);
    expect(onclose).not.toHaveBeenCalled();
  });

  it('in browser mode, browses the serving machine for the file and puts its path in the field', async () => {
    connection.info = { name: 'iCBD Console', version: '0', home: '/home/op/.config', door: 'browser' };
    fake.answer('files.list', () => ({ path: '/home/op', parent: '/home', truncated: false, entries: [{ name: 'win10.qcow2', kind: 'file', size: 2 ** 30 }] }));
    render(UploadForm, { onclose: () => undefined });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    await screen.findByRole('listbox', { name: 'Files in /home/op' });
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.getByLabelText('File')).toHaveProperty('value', '/home/op/win10.qcow2'));
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText('File'));
    expect(screen.getByLabelText('Name on the node').getAttribute('placeholder')).toBe('win10.qcow2');
  });

  it("in the window, asks for the OS file dialog, and a cancelled dialog changes nothing", async () => {
    connection.info = { name: 'iCBD Console', version: '0', home: '/home/op/.config', door: 'electron' };
    const picks = ['/home/op/netinst.iso', null];
    fake.answer('files.pick', () => ({ path: picks.shift()! }));
    render(UploadForm, { onclose: () => undefined });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    await waitFor(() => expect(screen.getByLabelText('File')).toHaveProperty('value', '/home/op/netinst.iso'));
    expect(fake.api.invoke).toHaveBeenCalledWith('files.pick', { title: 'File to upload' });
    await user.click(screen.getByRole('button', { name: 'Browse…' }));
    await waitFor(() => expect(picks).toEqual([]));
    expect(screen.getByLabelText('File')).toHaveProperty('value', '/home/op/netinst.iso');
    expect(screen.queryByRole('listbox')).toBeNull();
  });
});
