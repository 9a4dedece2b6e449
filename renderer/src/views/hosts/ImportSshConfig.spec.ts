import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../../../shared/contract.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { Host } from '../../../../shared/inventory.ts';
import { fake } from '../../lib/fake-api.ts';
import ImportSshConfig from './ImportSshConfig.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

type Proposed = Output<'hosts.proposeFromSshConfig'>;
const proposal = (host: Proposed['proposals'][number]['host'], alias = host.name, notes: string[] = []) => ({ host, alias, notes });

const PROPOSED: Proposed = {
  proposals: [
    proposal({ name: 'cache01', address: '10.0.1.21', port: 22, user: 'root', role: 'cache', jump: 'imgs' }),
    proposal({ name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' }, 'imgs.lab'),
    proposal({ name: 'backup', address: '10.0.0.99', port: 2222, user: 'op' }, 'backup', ['Only the first IdentityFile (~/.ssh/a) is kept.']),
    proposal({ name: 'rw', address: '10.0.0.11', port: 22, user: 'root', role: 'rw' }),
  ],
  skipped: [{ alias: 'jump-%h', reason: 'HostName %h.example uses %-tokens, which the inventory cannot express.' }],
};
const inventory: Host[] = [{ name: 'rw', address: '10.0.0.11', port: 22, user: 'root', role: 'rw' }];

const added = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'hosts.add').map(([, host]) => host as Host);

beforeEach(() => {
  fake.reset();
  fake.answer('hosts.proposeFromSshConfig', () => PROPOSED);
  fake.answer('hosts.add', (host) => host as Host);
});

describe('import from ~/.ssh/config', () => {
  it('proposes every host with its guessed role, selected; unguessed and known ones are not', async () => {
    render(ImportSshConfig, { inventory, onclose: () => {} });
    const box = async (name: string) => screen.findByRole<HTMLInputElement>('checkbox', { name: `Add ${name}` });
    expect((await box('cache01')).checked).toBe(true);
    expect((await box('imgs')).checked).toBe(true);
    expect((await box('backup')).checked).toBe(false);
    expect((await box('rw')).disabled).toBe(true);
    expect(screen.getByRole<HTMLSelectElement>('combobox', { name: 'Role of cache01' }).value).toBe('cache');
    expect(screen.getByRole<HTMLSelectElement>('combobox', { name: 'Role of backup' }).value).toBe('');
    const cache01 = screen.getByRole('rowheader', { name: 'cache01' }).closest('tr')!;
    expect(within(cache01).getByText('guessed')).toBeTruthy();
    const backup = screen.getByRole('rowheader', { name: /backup/ }).closest('tr')!;
    expect(within(backup).queryByText('guessed')).toBeNull();
    expect(backup.textContent).toContain('Only the first IdentityFile');
    expect(screen.getByRole('rowheader', { name: /imgs/ }).textContent).toContain('Host imgs.lab');
    expect(screen.getByText('Already in the inventory.')).toBeTruthy();
    expect(screen.getByText('1 entry left out')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Add selected (2)' })).toBeTruthy();
  });

  it('adds the selected hosts one by one, jump hosts first, with the roles as set, then closes', async () => {
    const onclose = vi.fn();
    const user = userEvent.setup();
    render(ImportSshConfig, { inventory, onclose });
    await user.click(await screen.findByRole('checkbox', { name: 'Add backup' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of backup' }), 'home');
    await user.click(screen.getByRole('button', { name: 'Add selected (3)' }));
    await waitFor(() => expect(onclose).toHaveBeenCalled());
    expect(added().map((h) => [h.name, h.role])).toEqual([
      ['imgs', 'imgs'],
      ['backup', 'home'],
      ['cache01', 'cache'],
    ]);
  });

  it('says per row what went wrong, keeps the panel, and does not add a host without a role', async () => {
    fake.answer('hosts.add', (host) => {
      if (host.name === 'imgs') throw new AppError('CONFLICT', 'There is already a host at 10.0.0.10:22 (imgs-old).');
      return host as Host;
    });
    const onclose = vi.fn();
    const user = userEvent.setup();
    render(ImportSshConfig, { inventory, onclose });
    await user.click(await screen.findByRole('checkbox', { name: 'Add backup' }));
    await user.click(screen.getByRole('button', { name: 'Add selected (3)' }));
    const alerts = await screen.findAllByRole('alert');
    expect(alerts.map((a) => a.textContent?.trim())).toEqual(['There is already a host at 10.0.0.10:22 (imgs-old).', 'Choose the role of backup first.']);
    expect(added().map((h) => h.name)).toEqual(['imgs', 'cache01']);
    expect(screen.getByText('Added.')).toBeTruthy();
    expect(onclose).not.toHaveBeenCalled();
  });

  it('shows why ~/.ssh/config cannot be read', async () => {
    fake.answer('hosts.proposeFromSshConfig', () => {
      throw new AppError('NOT_FOUND', 'Cannot read /home/op/.ssh/config (ENOENT).');
    });
    render(ImportSshConfig, { inventory, onclose: () => {} });
    expect((await screen.findByRole('alert')).textContent).toContain('Cannot read /home/op/.ssh/config (ENOENT).');
  });

  it('chooses the jump chain of a chosen host, and asks for the role of a jump host nothing guessed', async () => {
    fake.answer('hosts.proposeFromSshConfig', () => ({
      proposals: [
        proposal({ name: 'bastion', address: 'bastion.example.org', port: 2022, user: 'admin' }, 'admin@bastion:2022', ['A jump host, named in a ProxyJump or ProxyCommand as admin@bastion:2022.']),
        proposal({ name: 'gw', address: '10.0.9.1', port: 22, user: 'root', jump: 'bastion' }),
        proposal({ name: 'cache07', address: '10.0.1.27', port: 22, user: 'root', role: 'cache', jump: 'gw' }),
      ],
      skipped: [],
    }));
    const user = userEvent.setup();
    render(ImportSshConfig, { inventory, onclose: () => {} });
    const box = async (name: string) => screen.findByRole<HTMLInputElement>('checkbox', { name: `Add ${name}` });
    await user.click(await box('cache07'));
    expect((await box('cache07')).checked).toBe(false);
    await user.click(await box('cache07'));
    expect([(await box('cache07')).checked, (await box('gw')).checked, (await box('bastion')).checked]).toEqual([true, true, true]);
    await user.click(screen.getByRole('button', { name: 'Add selected (3)' }));
    const alerts = await screen.findAllByRole('alert');
    expect(alerts.map((a) => a.textContent?.trim())).toEqual(['Choose the role of bastion first.', 'Choose the role of gw first.']);
  });
});
