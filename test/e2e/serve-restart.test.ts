import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserSession, cli, ROOT, screenshots, startBrowserMode } from './browser.ts';

/**
 * A sysadmin restarts `icbd serve` under an open tab: with the same data directory the tab
 * reconnects by itself (the token is kept); after --new-token it stops retrying and says, in words,
 * which URL to open and how to print it.
 */

// Chromium logs every failed handshake and refused request itself; those are this test's subject.
const EXPECTED = [
  /^console: WebSocket connection to 'ws:\/\/127\.\d+\.\d+\.\d+:\d+\/api' failed/,
  /^console: Failed to load resource: net::ERR_CONNECTION_REFUSED$/,
  /^console: Failed to load resource: the server responded with a status of 401 \(Unauthorized\)$/,
];

const ui = browserSession('restart', { expected: EXPECTED, hash: '#/hosts' });
// The sockets the tab opens once loaded: how often it tries to reconnect.
const sockets: string[] = [];
beforeAll(() => void ui.page.on('websocket', (ws) => sockets.push(ws.url())));

const link = () => ui.page.getByRole('status', { name: /^Connection/ });
const signedOut = () => ui.page.getByRole('status', { name: 'icbd serve was restarted with a new token' });

describe('icbd serve restarted under an open tab', () => {
  it('with the same data directory: the tab says it is retrying, then carries on by itself', async () => {
    await expect.poll(() => link().textContent(), { timeout: 10_000 }).toContain('Connected');
    const { port, token } = ui.server;
    await ui.server.stop();
    await expect.poll(() => link().textContent(), { timeout: 15_000 }).toContain('Disconnected, retrying');
    const tries = sockets.length;
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThan(tries + 1);
    expect(await signedOut().count()).toBe(0);

    ui.server = await startBrowserMode(ui.home, {}, { port });
    expect(ui.server.token).toBe(token);
    await expect.poll(() => link().textContent(), { timeout: 15_000 }).toContain('Connected');
    // Events flow again (the tab subscribed anew): a host added from the CLI shows up in it.
    const added = await cli(ui.home, 'hosts', 'add', 'imgs', '--address', '127.0.1.10', '--role', 'imgs');
    expect(added.code, added.stderr).toBe(0);
    await expect.poll(() => ui.page.getByRole('rowheader', { name: 'imgs', exact: true }).count(), { timeout: 10_000 }).toBe(1);
    expect(await ui.page.locator('main').evaluate((main) => (main as HTMLElement).inert)).toBe(false);
  });

  it('with --new-token: the tab stops retrying and says which URL to open and how to print it', async () => {
    const { port, token: old } = ui.server;
    await ui.server.stop();
    ui.server = await startBrowserMode(ui.home, {}, { port, args: ['--new-token'] });
    expect(ui.server.token).not.toBe(old);

    await expect.poll(() => signedOut().count(), { timeout: 20_000 }).toBe(1);
    const words = (await signedOut().textContent()) ?? '';
    expect(words).toContain(`iCBD Console (browser mode): http://${ui.server.host}:${port}/?token=…`);
    expect(words).toContain(`npm run serve -- --print-url --port ${port} --home ${ui.home}`);
    expect(words).not.toContain(ui.server.token);
    expect(await link().textContent()).toContain('Signed out');
    expect(await ui.page.locator('main').evaluate((main) => (main as HTMLElement).inert)).toBe(true);
    await screenshots(ui.page, 'browser-signed-out');

    const tries = sockets.length;
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(sockets.length, 'a refused tab must not keep reconnecting').toBe(tries);

    const printed = await promisify(execFile)('npx', ['tsx', 'electron/serve/serve.ts', '--print-url', '--port', String(port), '--home', ui.home], { cwd: ROOT });
    expect(printed.stdout).toBe(`${ui.server.url}\n`);
    await ui.page.goto(`${printed.stdout.trim()}#/hosts`);
    await expect.poll(() => link().textContent(), { timeout: 10_000 }).toContain('Connected');
    expect(await signedOut().count()).toBe(0);
    // "Connected" comes with the socket; the hosts list with the first answer after it.
    await expect.poll(() => ui.page.getByRole('rowheader', { name: 'imgs', exact: true }).count(), { timeout: 10_000 }).toBe(1);
  });
});
