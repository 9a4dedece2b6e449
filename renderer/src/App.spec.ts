import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import App from './App.svelte';
import { fake } from './lib/fake-api.ts';

vi.mock('./lib/api.ts', async () => (await import('./lib/fake-api.ts')).apiModule);

const INFO = { name: 'iCBD Console', version: '0.1.0', home: '/home/op/.config/iCBD Console', door: 'browser' } as const;

beforeEach(() => {
  fake.reset();
  fake.answer('app.info', () => INFO);
  fake.answer('hosts.list', () => [{ name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' }]);
  fake.answer('health.list', () => []);
  fake.answer('prompts.list', () => []);
  fake.answer('audit.list', () => []);
  fake.answer('schedules.list', () => ({ schedules: [], notify: null }));
  fake.answer('overview.get', () => ({ at: 1, lastLook: null, source: 'imgs', nodes: [{ host: 'imgs', role: 'imgs', state: 'up', latencyMs: 1, disk: null, diskProblem: null }], lag: [], running: [], queued: [], schedules: [], failures: [] }));
  location.hash = '#/hosts';
});

describe('App frame', () => {
  it('has a banner with name, version, data directory and link state, a navigation and a main area that opens on the overview', async () => {
    location.hash = '';
    render(App);
    const banner = screen.getByRole('banner');
    await waitFor(() => expect(banner.textContent).toContain('/home/op/.config/iCBD Console'));
    expect(banner.textContent).toContain('0.1.0');
    expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Connected');
    expect(screen.getByRole('navigation', { name: 'Views' })).toBeTruthy();
    await waitFor(() => expect(screen.getByRole('main').querySelector('h1')?.textContent).toBe('Overview'));
    await waitFor(() => expect(screen.getByRole('rowheader', { name: 'imgs' })).toBeTruthy());
  });

  it('switches views with Ctrl+digit, through the hash, and focuses the new heading', async () => {
    const user = userEvent.setup();
    render(App);
    await user.keyboard('{Control>}7{/Control}');
    await waitFor(() => expect(location.hash).toBe('#/audit'));
    const heading = await screen.findByRole('heading', { level: 1, name: 'Audit' });
    expect(await screen.findByText(/No change made to a host matches/)).toBeTruthy();
    expect(document.activeElement).toBe(heading);
    expect(document.title).toBe('Audit · iCBD Console');
    await user.keyboard('{Meta>}2{/Meta}');
    await screen.findByRole('heading', { level: 1, name: 'Hosts' });
  });

  it('says when the core stops answering, and reloads the hosts when it is back', async () => {
    fake.answer('app.info', () => {
      throw new AppError('UNAVAILABLE', 'Lost the connection to icbd serve; is it still running?');
    });
    vi.useFakeTimers({ toFake: ['setInterval'] });
    try {
      render(App);
      await waitFor(() => expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Disconnected'));
      expect(screen.getByRole('alert').textContent).toContain('Lost the connection to icbd serve');
      const listed = fake.api.invoke.mock.calls.filter(([name]) => name === 'hosts.list').length;

      fake.answer('app.info', () => INFO);
      vi.advanceTimersByTime(5000);
      await waitFor(() => expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Connected'));
      expect(screen.queryByRole('alert')).toBeNull();
      expect(fake.api.invoke.mock.calls.filter(([name]) => name === 'hosts.list').length).toBe(listed + 1);
    } finally {
      vi.useRealTimers();
    }
  });
});
