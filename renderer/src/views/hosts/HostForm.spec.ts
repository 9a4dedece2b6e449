import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { Host } from '../../../../shared/inventory.ts';
import { fake } from '../../lib/fake-api.ts';
import HostForm from './HostForm.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const imgs: Host = { name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' };
const cache01: Host = { name: 'cache01', address: '10.0.0.21', port: 22, user: 'root', role: 'cache', jump: 'imgs' };

function open(props: Partial<{ editing: Host; hosts: Host[] }> = {}) {
  const onclose = vi.fn();
  const onsaved = vi.fn();
  render(HostForm, { hosts: [imgs, cache01], onclose, onsaved, ...props });
  return { onclose, onsaved, user: userEvent.setup() };
}

/** The message the field's aria-describedby points at: what a screen reader reads with it. */
function noteOf(label: string): string | null | undefined {
  const field = screen.getByLabelText(label);
  const id = field.getAttribute('aria-describedby');
  return id ? document.getElementById(id)?.textContent : undefined;
}

beforeEach(() => fake.reset());

describe('HostForm', () => {
  it('has a field for every host field, with the role and the jump host as choices', () => {
    open();
    for (const label of ['Name', 'Role', 'Address', 'SSH port', 'User', 'Jump host', 'Identity file', 'Notes'])
      expect(screen.getByLabelText(label)).toBeTruthy();
    const roles = [...screen.getByLabelText<HTMLSelectElement>('Role').options].map((o) => o.textContent);
    expect(roles).toEqual(['Choose a role…', 'Image repository (imgs)', 'Read/write space (rw)', 'Home accounts (home)', 'Cache nodes (cache)']);
    const jumps = [...screen.getByLabelText<HTMLSelectElement>('Jump host').options].map((o) => o.value);
    expect(jumps).toEqual(['', 'imgs', 'cache01']);
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('shows the schema’s messages next to their fields on Enter and sends nothing', async () => {
    const { user } = open();
    await user.type(screen.getByLabelText('Name'), 'Bad Name!{Enter}');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(noteOf('Name')).toBe('A host name is lowercase letters, digits and "-", starts with a letter and does not end with "-" (e.g. cache01).');
    expect(noteOf('Address')).toBe('An address is required.');
    expect(noteOf('Role')).toBe('The role is one of imgs, rw, home, cache.');
    expect(screen.getByLabelText('SSH port').getAttribute('aria-invalid')).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    expect(fake.api.invoke).not.toHaveBeenCalled();

    // Once shown, a message follows the value as it is corrected.
    await user.clear(screen.getByLabelText('Name'));
    await user.type(screen.getByLabelText('Name'), 'cache02');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBeNull();
    expect(noteOf('Name')).toMatch(/How the console and the CLI call this host/);
  });

  it('refuses a name in use and a jump loop in place, in the core’s words', async () => {
    const { user } = open({ editing: imgs });
    await user.selectOptions(screen.getByLabelText('Jump host'), 'cache01');
    await user.clear(screen.getByLabelText('Name'));
    await user.type(screen.getByLabelText('Name'), 'cache01{Enter}');
    expect(noteOf('Name')).toBe('There is already a host named cache01.');
    await user.clear(screen.getByLabelText('Name'));
    await user.type(screen.getByLabelText('Name'), 'imgs{Enter}');
    expect(noteOf('Jump host')).toBe('The jump chain of imgs loops back through imgs.');
  });

  it('adds the parsed host, busy until the core answers', async () => {
    let answer!: (host: Host) => void;
    fake.answer('hosts.add', () => new Promise<Host>((resolve) => (answer = resolve)));
    const { user, onsaved } = open();
    await user.type(screen.getByLabelText('Name'), 'cache02');
    await user.selectOptions(screen.getByLabelText('Role'), 'cache');
    await user.type(screen.getByLabelText('Address'), '10.0.0.22');
    await user.type(screen.getByLabelText('SSH port'), '2222');
    await user.selectOptions(screen.getByLabelText('Jump host'), 'imgs');
    await user.type(screen.getByLabelText('Notes'), 'spare{Enter}');

    const button = screen.getByRole('button', { name: 'Adding…' });
    expect(button.getAttribute('aria-busy')).toBe('true');
    const sent = { name: 'cache02', role: 'cache', address: '10.0.0.22', port: 2222, user: 'root', jump: 'imgs', notes: 'spare' };
    expect(fake.api.invoke).toHaveBeenCalledExactlyOnceWith('hosts.add', sent);
    // A second Enter while busy sends nothing more.
    await user.type(screen.getByLabelText('Notes'), '{Enter}');
    expect(fake.api.invoke).toHaveBeenCalledTimes(1);

    answer(sent as Host);
    await waitFor(() => expect(onsaved).toHaveBeenCalledWith(sent));
    expect(screen.getByRole('button', { name: 'Add host' })).toBeTruthy();
  });

  it('puts the core’s refusals on their fields, for as long as the value is the one refused', async () => {
    fake.answer('hosts.update', () => {
      throw new AppError('INVALID_INPUT', 'host.address: …', { issues: [{ path: 'host.address', message: 'Refused by the core.' }] });
    });
    const { user } = open({ editing: cache01 });
    await user.type(screen.getByLabelText('Notes'), 'x{Enter}');
    await waitFor(() => expect(noteOf('Address')).toBe('Refused by the core.'));
    expect(fake.api.invoke).toHaveBeenCalledWith('hosts.update', { name: 'cache01', host: { ...cache01, notes: 'x' } });
    expect(document.activeElement).toBe(screen.getByLabelText('Address'));
    await user.type(screen.getByLabelText('Address'), '0');
    expect(noteOf('Address')).toBe('DNS name or IP address, without the port.');
  });

  it('maps a conflict’s detail.field onto the field', async () => {
    fake.answer('hosts.add', () => {
      throw new AppError('CONFLICT', 'There is already a host named rw.', { field: 'name' });
    });
    const { user } = open();
    await user.type(screen.getByLabelText('Name'), 'rw');
    await user.selectOptions(screen.getByLabelText('Role'), 'rw');
    await user.type(screen.getByLabelText('Address'), 'rw.lab{Enter}');
    await waitFor(() => expect(noteOf('Name')).toBe('There is already a host named rw.'));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows any other failure in words in a banner, with what to do next', async () => {
    fake.answer('hosts.update', () => {
      throw new AppError('UNAVAILABLE', 'Lost the connection to icbd serve; is it still running?');
    });
    const { user } = open({ editing: imgs });
    await user.type(screen.getByLabelText('Notes'), 'x{Enter}');
    const banner = await screen.findByRole('alert');
    expect(banner.textContent).toContain('Lost the connection to icbd serve; is it still running?');
    expect(banner.textContent).toContain('The console reconnects by itself; try again in a moment.');
  });

  it('closes on Escape and on Cancel', async () => {
    const { user, onclose } = open();
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onclose).toHaveBeenCalledTimes(2);
  });
});
