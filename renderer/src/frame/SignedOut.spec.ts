import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import App from '../App.svelte';
import { fake } from '../lib/fake-api.ts';
import { TOKEN_REFUSED } from '../lib/ws-transport.ts';
import SignedOut from './SignedOut.svelte';

vi.mock('../lib/api.ts', async () => (await import('../lib/fake-api.ts')).apiModule);

const HOME = '/home/op/.config/iCBD Console';
const INFO = { name: 'iCBD Console', version: '0.1.0', home: HOME, door: 'browser' } as const;
const refusal = () => new AppError('UNAUTHORIZED', "icbd serve no longer accepts this tab's token: it was restarted with a new one.", { reason: TOKEN_REFUSED });

describe('SignedOut', () => {
  it('says in words that the server was restarted, where the new URL is and the command that prints it', () => {
    render(SignedOut, { hostname: '127.18.52.7', port: '7421', home: HOME });
    const message = screen.getByRole('status', { name: 'icbd serve was restarted with a new token' });
    expect(message.textContent).toContain('stopped reconnecting');
    expect(message.textContent).toContain('iCBD Console (browser mode): http://127.18.52.7:7421/?token=…');
    expect(message.querySelector('.command')?.textContent).toBe("npm run serve -- --print-url --port 7421 --home '/home/op/.config/iCBD Console'");
  });

  it('leaves --home out when the server never said which data directory it serves', () => {
    render(SignedOut, { hostname: '127.0.0.1', port: '8000' });
    expect(screen.getByRole('status').querySelector('.command')?.textContent).toBe('npm run serve -- --print-url --port 8000');
  });
});

describe('a tab whose token is refused', () => {
  beforeEach(() => {
    fake.reset();
    fake.answer('hosts.list', () => [{ name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' }]);
    fake.answer('health.list', () => []);
    fake.answer('prompts.list', () => []);
    fake.answer('schedules.list', () => ({ schedules: [], notify: null }));
    fake.answer('overview.get', () => ({ at: 1, lastLook: null, source: 'imgs', nodes: [], lag: [], running: [], queued: [], schedules: [], failures: [] }));
  });

  it('shows the message instead of "retrying", stops checking, and leaves nothing usable', async () => {
    fake.answer('app.info', () => INFO);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      render(App);
      await waitFor(() => expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Connected'));

      fake.answer('app.info', () => {
        throw refusal();
      });
      vi.advanceTimersByTime(5000);
      const message = await screen.findByRole('status', { name: 'icbd serve was restarted with a new token' });
      // The data directory the server named before is what --print-url needs.
      expect(message.textContent).toContain(`--home '${HOME}'`);
      expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Signed out');
      expect(screen.queryByRole('alert')).toBeNull();
      expect(screen.getByRole('main').inert).toBe(true);
      expect(screen.getByRole('navigation', { name: 'Views' }).closest<HTMLElement>('.side')?.inert).toBe(true);

      const asked = fake.api.invoke.mock.calls.filter(([name]) => name === 'app.info').length;
      vi.advanceTimersByTime(30_000);
      expect(fake.api.invoke.mock.calls.filter(([name]) => name === 'app.info').length).toBe(asked);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps "Disconnected, retrying" for a server that is only out of reach', async () => {
    fake.answer('app.info', () => {
      throw new AppError('UNAVAILABLE', 'Lost the connection to icbd serve; is it still running?');
    });
    render(App);
    await waitFor(() => expect(screen.getByRole('status', { name: /^Connection/ }).textContent).toContain('Disconnected, retrying'));
    expect(screen.queryByRole('status', { name: 'icbd serve was restarted with a new token' })).toBeNull();
    expect(screen.getByRole('main').inert).toBe(false);
  });
});
