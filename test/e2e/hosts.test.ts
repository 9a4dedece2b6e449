import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Host } from '../../shared/inventory.ts';
import { browserSession, cli, screenshots } from './browser.ts';

const ui = browserSession('hosts', { hash: '#/hosts' });

async function hostsFromCli(): Promise<Host[]> {
  const listed = await cli(ui.home, 'hosts', 'list', '--json');
  expect(listed.code, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as Host[];
}

const field = (label: string) => ui.page.getByLabel(label, { exact: true });
const row = (name: string) => ui.page.getByRole('row').filter({ has: ui.page.getByRole('rowheader', { name, exact: true }) });

describe('hosts in browser mode', () => {
  it('explains an empty inventory and offers to add a host', async () => {
    await expect.poll(() => ui.page.getByRole('heading', { name: 'No hosts yet' }).isVisible()).toBe(true);
    await expect.poll(() => ui.page.getByRole('status', { name: /^Connection/ }).textContent()).toContain('Connected');
    expect(await ui.page.locator('header').textContent()).toContain(ui.home);
    await screenshots(ui.page, 'hosts-empty');
  });

  it('shows the validation message next to the field, in the core’s words', async () => {
    await ui.page.getByRole('button', { name: 'Add host' }).first().click();
    const name = field('Name');
    await expect.poll(() => name.evaluate((el) => el === document.activeElement)).toBe(true);
    await name.fill('Bad Name!');
    await field('Address').fill('127.0.1.1');
    await field('Role').selectOption('imgs');
    await name.press('Enter');
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    const noteId = await name.getAttribute('aria-describedby');
    expect(await ui.page.locator(`#${noteId}`).textContent()).toBe(
      'A host name is lowercase letters, digits and "-", starts with a letter and does not end with "-" (e.g. cache01).',
    );
    await screenshots(ui.page, 'hosts-form-invalid');
    await name.press('Escape');
    await expect.poll(() => ui.page.getByRole('form').count()).toBe(0);
    expect(await hostsFromCli()).toEqual([]);
  });

  it('adds a host in the window that the CLI then lists', async () => {
    await ui.page.getByRole('button', { name: 'Add host' }).first().click();
    await field('Name').fill('imgs');
    await field('Role').selectOption('imgs');
    await field('Address').fill('127.0.1.10');
    await field('Notes').fill('replication master');
    await field('Notes').press('Enter');
    await expect.poll(() => row('imgs').count()).toBe(1);
    expect(await ui.page.getByRole('form').count()).toBe(0);
    expect(await hostsFromCli()).toEqual([
      { name: 'imgs', address: '127.0.1.10', port: 22, user: 'root', role: 'imgs', notes: 'replication master' },
    ]);
  });

  it('follows hosts added and removed by the CLI, live, without a reload', async () => {
    await ui.page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    for (const args of [
      ['rw', '--address', '127.0.1.11', '--role', 'rw'],
      ['home', '--address', '127.0.1.12', '--role', 'home'],
      ['cache01', '--address', '127.0.1.21', '--role', 'cache', '--jump', 'imgs', '--notes', 'rack 2, 4 TB btrfs'],
      ['cache02', '--address', 'localhost', '--port', '2222', '--role', 'cache', '--jump', 'imgs'],
    ]) {
      const added = await cli(ui.home, 'hosts', 'add', ...args);
      expect(added.code, added.stderr).toBe(0);
    }
    await expect.poll(() => row('cache02').count()).toBe(1);
    expect(await row('cache02').textContent()).toContain('localhost:2222');
    await screenshots(ui.page, 'hosts-list');

    const removed = await cli(ui.home, 'hosts', 'rm', 'cache02');
    expect(removed.code, removed.stderr).toBe(0);
    await expect.poll(() => row('cache02').count()).toBe(0);
    expect(await row('cache01').count()).toBe(1);
    expect(await ui.page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  });

  it('removes a host after an inline confirmation, by keyboard', async () => {
    await row('home').getByRole('button', { name: 'Remove home' }).focus();
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => row('home').getByRole('button', { name: 'Keep' }).evaluate((el) => el === document.activeElement)).toBe(true);
    await screenshots(ui.page, 'hosts-remove-confirm');
    await ui.page.keyboard.press('Shift+Tab');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => row('home').count()).toBe(0);
    expect((await hostsFromCli()).map((h) => h.name)).toEqual(['imgs', 'rw', 'cache01']);
  });

  it('says in words why a jump host cannot be removed', async () => {
    await row('imgs').getByRole('button', { name: 'Remove imgs' }).click();
    await row('imgs').getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => ui.page.getByRole('alert').textContent()).toContain('imgs is the jump host of cache01');
    await screenshots(ui.page, 'hosts-remove-refused');
    await row('imgs').getByRole('button', { name: 'Keep' }).press('Escape');
    await expect.poll(() => ui.page.getByRole('alert').count()).toBe(0);
  });

  it('edits a host in place and refuses a name in use next to the field', async () => {
    await row('cache01').getByRole('button', { name: 'Edit cache01' }).click();
    await field('Name').fill('rw');
    await field('Name').press('Enter');
    await expect.poll(() => ui.page.getByText('There is already a host named rw.').count()).toBe(1);
    await screenshots(ui.page, 'hosts-edit-name-in-use');
    await field('Name').fill('cache1');
    await field('User').fill('icbd');
    await field('User').press('Enter');
    await expect.poll(() => row('cache1').count()).toBe(1);
    expect((await hostsFromCli()).find((h) => h.name === 'cache1')).toMatchObject({ user: 'icbd', jump: 'imgs' });
  });

  it('switches views with Ctrl+digit and keeps the view over a reload', async () => {
    await ui.page.keyboard.press('Control+3');
    await expect.poll(() => ui.page.getByRole('heading', { level: 1 }).textContent()).toBe('Install');
    expect(ui.page.url()).toMatch(/#\/install$/);
    await ui.page.reload();
    await expect.poll(() => ui.page.getByRole('heading', { level: 1 }).textContent()).toBe('Install');
    await screenshots(ui.page, 'install');
    await ui.page.getByRole('link', { name: 'Install' }).focus();
    await ui.page.keyboard.press('ArrowUp');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => ui.page.getByRole('heading', { level: 1 }).textContent()).toBe('Hosts');
  });
});

describe('browser mode refuses strangers', () => {
  const get = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: ui.server.host, port: ui.server.port, path: '/', headers }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });

  it('answers 401 to a page request without the token', async () => {
    expect(await get({})).toBe(401);
  });

  it('answers 421 to a request for another host name, token or not', async () => {
    expect(await get({ host: `evil.example:${ui.server.port}`, cookie: `icbd_token=${ui.server.token}` })).toBe(421);
  });

  it('refuses a WebSocket to /api without the cookie or token', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const ws = new WebSocket(`ws://${ui.server.host}:${ui.server.port}/api`, { headers: { origin: ui.server.origin } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 'no status'));
      ws.once('open', () => {
        ws.close();
        resolve('opened');
      });
      ws.once('error', (err) => resolve(err.message));
    });
    expect(status).toBe(401);
  });
});

describe('when icbd serve stops', () => {
  it('says so in the header and in words', async () => {
    await ui.server.stop();
    await expect.poll(() => ui.page.getByRole('status', { name: /^Connection/ }).textContent(), { timeout: 15_000 }).toContain('Disconnected');
    // The transport retrying its socket (and asking whether the token is refused) is expected here;
    // Chromium logs each refused attempt.
    const refused = /WebSocket connection to 'ws:\/\/127\.\d+\.\d+\.\d+:\d+\/api' failed|Failed to load resource: net::ERR_CONNECTION_REFUSED/;
    ui.problems.splice(0, ui.problems.length, ...ui.problems.filter((p) => !refused.test(p)));
    expect(await ui.page.getByRole('alert').textContent()).toMatch(/icbd serve.*still running/);
    await screenshots(ui.page, 'frame-disconnected');
    ui.problems.splice(0, ui.problems.length, ...ui.problems.filter((p) => !refused.test(p)));
  });
});
