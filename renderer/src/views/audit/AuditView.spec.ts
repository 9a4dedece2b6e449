import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../../../shared/audit.ts';
import { fake } from '../../lib/fake-api.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import AuditView from './AuditView.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const entry = (patch: Partial<AuditEntry>): AuditEntry => ({ at: '2026-11-26T10:00:00.000Z', actor: 'root@ops', door: 'electron', host: 'cache01', action: 'x', result: 'ok', ...patch });

beforeEach(() => {
  fake.reset();
  hostList.hosts = [
    { name: 'cache01', address: '10.0.2.101', port: 22, user: 'root', role: 'cache' },
    { name: 'imgs', address: '10.0.2.251', port: 22, user: 'root', role: 'imgs' },
  ];
});

describe('the audit view', () => {
  it('lists entries as the core gives them (newest first), adds new ones live, and expands a row to its diff', async () => {
    fake.answer('audit.list', () => [
      entry({ at: '2026-11-26T10:00:02.000Z', action: 'Write the role\'s lines to /etc/fstab', step: 'mounts', path: '/etc/fstab', diff: '--- a/etc/fstab\n+++ b/etc/fstab\n+UUID=x /var/lib btrfs subvol=Lib 0 0\n', backup: '/etc/fstab.icbd-20261126-100002' }),
      entry({ at: '2026-11-26T10:00:01.000Z', action: 'Format /dev/vdb', step: 'disk', command: 'mkfs.btrfs -L icbd /dev/vdb' }),
    ]);
    render(AuditView);
    const user = userEvent.setup();
    const rows = await screen.findAllByRole('row');
    expect(rows[1]!.textContent).toContain('/etc/fstab');
    expect(rows[2]!.textContent).toContain('Format /dev/vdb');

    fake.emit('audit.appended', entry({ at: '2026-11-26T10:00:03.000Z', action: 'Mount /etc/hosts', command: 'mount /etc/hosts', result: 'failed', detail: 'mount: no such file' }));
    await vi.waitFor(() => expect(screen.getAllByRole('row')[1]!.textContent).toContain('Mount /etc/hosts'));

    const [toggle] = screen.getAllByRole('button', { name: 'Details' });
    await user.click(toggle!);
    expect(toggle!.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByText('$ mount /etc/hosts')).toBeTruthy();
    expect(screen.getByText('mount: no such file')).toBeTruthy();
    await user.click(screen.getAllByRole('button', { name: 'Details' })[1]!);
    expect(document.querySelector('.diff .add')?.textContent).toContain('+UUID=x');
    expect(screen.getByText('/etc/fstab.icbd-20261126-100002')).toBeTruthy();
  });

  it("shows how an operator's command ended: as whom, its exit status, how long it took", async () => {
    fake.answer('audit.list', () => [entry({ action: 'exec', command: 'systemctl restart nfs-server', user: 'root', result: 'failed', exitCode: 5, ms: 1234 })]);
    render(AuditView);
    const user = userEvent.setup();
    await user.click((await screen.findAllByRole('button', { name: 'Details' }))[0]!);
    expect(screen.getByText('$ systemctl restart nfs-server')).toBeTruthy();
    expect(screen.getByText('as root · exit 5 · 1.2 s')).toBeTruthy();
  });

  it('asks the core again for one host and a time range', async () => {
    fake.answer('audit.list', () => []);
    render(AuditView);
    const user = userEvent.setup();
    expect(await screen.findByText(/No change made to a host matches/)).toBeTruthy();
    await user.selectOptions(screen.getByLabelText('Host'), 'imgs');
    expect(fake.api.invoke).toHaveBeenLastCalledWith('audit.list', { host: 'imgs', limit: 1000 });
    await user.type(screen.getByLabelText('From'), '2026-11-26T09:00');
    const last = fake.api.invoke.mock.calls.at(-1)![1] as { since?: string };
    expect(Date.parse(last.since!)).toBe(new Date('2026-11-26T09:00').getTime());
  });
});
