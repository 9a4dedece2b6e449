import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { createRawSnippet } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { Host } from '../../../../shared/inventory.ts';
import type { HostHealth } from '../../../../shared/ssh.ts';
import { fake } from '../../lib/fake-api.ts';
import { health } from '../../lib/health.svelte.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import { schedules } from '../../lib/schedules.svelte.ts';
import HostsView from './HostsView.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const imgs: Host = { name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs', notes: 'replication master' };
const cache01: Host = { name: 'cache01', address: '10.0.0.21', port: 22, user: 'root', role: 'cache', jump: 'imgs' };
const cache02: Host = { name: 'cache02', address: 'fd00::22', port: 2222, user: 'icbd', role: 'cache', jump: 'imgs' };

let unfollow: () => void;

async function showWith(hosts: Host[]) {
  fake.answer('hosts.list', () => hosts);
  unfollow = hostList.follow();
  await hostList.refresh();
  return userEvent.setup();
}

const group = (label: string) => screen.getByRole('rowgroup', { name: label });
const namesIn = (label: string) => within(group(label)).queryAllByRole('rowheader').map((cell) => cell.textContent);

beforeEach(() => fake.reset());
afterEach(() => unfollow());

describe('HostsView', () => {
  it('lists the hosts under their role, every role shown', async () => {
    await showWith([cache01, imgs, cache02]);
    render(HostsView);
    expect(namesIn('Image repository')).toEqual(['imgs']);
    expect(namesIn('Cache nodes')).toEqual(['cache01', 'cache02']);
    expect(namesIn('Read/write space')).toEqual([]);
    expect(within(group('Read/write space')).getByText('None yet.')).toBeTruthy();
    const row = screen.getByRole('rowheader', { name: 'cache02' }).closest('tr')!;
    expect([...row.cells].slice(0, 5).map((c) => c.textContent)).toEqual(['cache02', 'unknown', '[fd00::22]:2222', 'icbd', 'imgs']);
    expect(screen.getByText('3 hosts')).toBeTruthy();
  });

  it('explains an empty inventory, offers "Add host" and the caller’s offer', async () => {
    const user = await showWith([]);
    const offer = createRawSnippet(() => ({ render: () => '<button type="button">Start the demo lab</button>' }));
    render(HostsView, { offer });
    expect(screen.getByRole('heading', { name: 'No hosts yet' })).toBeTruthy();
    expect(screen.getByText(/A host is one server of your iCBD platform/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Start the demo lab' })).toBeTruthy();
    const adds = screen.getAllByRole('button', { name: 'Add host' });
    await user.click(adds[1]!);
    expect(screen.getByRole('form', { name: 'Add host' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'No hosts yet' })).toBeNull();
  });

  it('follows hosts.changed, whoever changed the inventory', async () => {
    await showWith([imgs]);
    render(HostsView);
    fake.emit('hosts.changed', { hosts: [imgs, cache01] });
    await waitFor(() => expect(namesIn('Cache nodes')).toEqual(['cache01']));
    fake.emit('hosts.changed', { hosts: [cache01] });
    await waitFor(() => expect(namesIn('Image repository')).toEqual([]));
  });

  it('edits a host in the form and gives the focus back to its Edit button', async () => {
    const user = await showWith([imgs, cache01]);
    render(HostsView);
    const edit = screen.getByRole('button', { name: 'Edit cache01' });
    await user.click(edit);
    const form = screen.getByRole('form', { name: 'Edit cache01' });
    expect(within(form).getByLabelText<HTMLInputElement>('Address').value).toBe('10.0.0.21');
    expect(edit.closest('tr')!.classList.contains('editing')).toBe(true);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('form')).toBeNull();
    expect(document.activeElement).toBe(edit);
  });

  it('removes a host only after an inline confirmation; Escape keeps it', async () => {
    fake.answer('hosts.remove', ({ name }) => ({ removed: name }));
    const user = await showWith([imgs, cache01]);
    render(HostsView);
    await user.click(screen.getByRole('button', { name: 'Remove cache01' }));
    expect(screen.getByText('Remove cache01 from the inventory?')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Keep' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByText('Remove cache01 from the inventory?')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Remove cache01' }));
    expect(fake.api.invoke).not.toHaveBeenCalledWith('hosts.remove', expect.anything());

    await user.keyboard('{Enter}');
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('hosts.remove', { name: 'cache01' });
  });

  it('says in the row why a host cannot be removed', async () => {
    fake.answer('hosts.remove', () => {
      throw new AppError('CONFLICT', 'imgs is the jump host of cache01; change or remove those first.', { field: 'name', users: ['cache01'] });
    });
    const user = await showWith([imgs, cache01]);
    render(HostsView);
    await user.click(screen.getByRole('button', { name: 'Remove imgs' }));
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    expect((await screen.findByRole('alert')).textContent).toContain('imgs is the jump host of cache01; change or remove those first.');
    expect(namesIn('Image repository')).toEqual(['imgs']);
  });

  it('shows a failed load in words', async () => {
    fake.answer('hosts.list', () => {
      throw new AppError('INTERNAL', '/data/inventory.json is not valid JSON (Unexpected token); fix or move it away.');
    });
    unfollow = hostList.follow();
    await hostList.refresh();
    render(HostsView);
    expect(screen.getByRole('alert').textContent).toContain('is not valid JSON (Unexpected token); fix or move it away.');
  });
});

describe('host health', () => {
  const up = (host: string, latencyMs: number): HostHealth => ({ host, state: 'up', latencyMs, lastError: null, checkedAt: 2, since: 1 });
  const REFUSED = 'cache01 cannot be reached: Nothing accepts SSH connections at cache01 (10.0.0.21:22, through imgs): check that sshd runs there and that the port in the inventory is right.';
  const down = { host: 'cache01', state: 'down', latencyMs: null, lastError: { code: 'UNAVAILABLE', message: REFUSED }, checkedAt: 3, since: 3 } as const;
  const statusOf = (name: string) => screen.getByRole('rowheader', { name }).nextElementSibling!;
  let unfollowHealth: () => void;

  beforeEach(() => {
    health.byHost = {};
    unfollowHealth = health.follow();
  });
  afterEach(() => unfollowHealth());

  it('shows up with latency, down and unknown, from health.list and then health.changed', async () => {
    fake.answer('health.list', () => [up('imgs', 3.25)]);
    await showWith([imgs, cache01, cache02]);
    await health.refresh();
    render(HostsView);
    expect(statusOf('imgs').textContent).toBe('up, 3.3 ms');
    expect(statusOf('cache02').textContent).toBe('unknown');

    fake.emit('health.changed', down);
    const why = await within(statusOf('cache01') as HTMLElement).findByRole('button');
    expect(why.getAttribute('title')).toBe(REFUSED);
    expect(why.textContent).toContain(`down: ${REFUSED}`);
    fake.emit('health.changed', up('imgs', 41.6));
    await waitFor(() => expect(statusOf('imgs').textContent).toBe('up, 42 ms'));
  });

  it('shows why a host is down in full, below its row, on demand', async () => {
    fake.answer('health.list', () => [down]);
    const user = await showWith([imgs, cache01]);
    await health.refresh();
    render(HostsView);
    expect(screen.queryByRole('alert')).toBeNull();
    const why = within(statusOf('cache01') as HTMLElement).getByRole('button');
    await user.click(why);
    expect(why.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByRole('alert').textContent?.trim()).toBe(REFUSED);
    await user.click(why);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('probes every host on "Check now", busy until the answer', async () => {
    let answer!: () => void;
    fake.answer('health.list', () => []);
    fake.answer('health.check', () => new Promise((resolve) => (answer = () => resolve([up('imgs', 1)]))));
    const user = await showWith([imgs]);
    render(HostsView);
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('health.check', {});
    expect(screen.getByRole('button', { name: /Checking/ }).getAttribute('aria-busy')).toBe('true');
    answer();
    await waitFor(() => expect(statusOf('imgs').textContent).toBe('up, 1.0 ms'));
    expect(screen.getByRole('button', { name: 'Check now' }).getAttribute('aria-busy')).toBeNull();
  });

  it('announces a failed scheduled run above the hosts, with what to do, until dismissed', async () => {
    const user = await showWith([imgs, cache01]);
    const off = schedules.follow();
    render(HostsView);
    const run = { startedAt: 1, endedAt: 2, outcome: 'failed', message: 'Nothing accepts SSH connections at imgs.\nFix the cause, then run it again (icbd schedule run-now nightly).', reason: 'its time came', transfers: [], pid: 1, host: 'mgmt01' } as const;
    fake.emit('schedule.failed', { name: 'nightly', run: { ...run, transfers: [] } });
    const alert = await screen.findByRole('alert', { name: 'Schedule nightly failed' });
    expect(alert.textContent).toContain('icbd schedule run-now nightly');
    await user.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert', { name: 'Schedule nightly failed' })).toBeNull();
    off();
  });
});
