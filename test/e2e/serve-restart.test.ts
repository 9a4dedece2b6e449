import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, cli, launchChromium, openWatchedPage, ROOT, screenshots, startBrowserMode, type BrowserMode } from './browser.ts';

/**
 * A sysadmin restarts `icbd serve` under an open tab: with the same data directory the tab
 * reconnects by itself (the token is kept); after --new-token it stops retrying and says, in words,
 * which URL to open and how to print it.
 */

let home: string;
let port: number;
let server: BrowserMode | undefined;
let browser: Browser;
let page: Page;
let problems: string[];
const sockets: string[] = [];

// Chromium logs every failed handshake and refused request itself; those are this test's subject.
const EXPECTED = [
  /^console: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/api' failed/,
  /^console: Failed to load resource: net::ERR_CONNECTION_REFUSED$/,
  /^console: Failed to load resource: the server responded with a status of 401 \(Unauthorized\)$/,
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const link = () => page.getByRole('status', { name: /^Connection/ });
const signedOut = () => page.getByRole('status', { name: 'icbd serve was restarted with a new token' });

beforeAll(async () => {
  await buildRenderer();
  home = mkdtempSync(join(tmpdir(), 'icbd-e2e-restart-'));
  port = await freePort();
  server = await startBrowserMode(home, {}, { port });
  browser = await launchChromium();
  ({ page, problems } = await openWatchedPage(browser));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

afterEach(() => {
  expect(problems.splice(0).filter((p) => !EXPECTED.some((e) => e.test(p)))).toEqual([]);
});

describe('icbd serve restarted under an open tab', () => {
  it('with the same data directory: the tab says it is retrying, then carries on by itself', async () => {
    await expect.poll(() => link().textContent(), { timeout: 10_000 }).toContain('Connected');
    const token = server!.token;
    await server!.stop();
    await expect.poll(() => link().textContent(), { timeout: 15_000 }).toContain('Disconnected, retrying');
    const tries = sockets.length;
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThan(tries + 1);
    expect(await signedOut().count()).toBe(0);

    server = await startBrowserMode(home, {}, { port });
    expect(server.token).toBe(token);
    await expect.poll(() => link().textContent(), { timeout: 15_000 }).toContain('Connected');
    // Events flow again (the tab subscribed anew): a host added from the CLI shows up in it.
    const added = await cli(home, 'hosts', 'add', 'imgs', '--address', '127.0.1.10', '--role', 'imgs');
    expect(added.code, added.stderr).toBe(0);
    await expect.poll(() => page.getByRole('rowheader', { name: 'imgs', exact: true }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('main').evaluate((main) => (main as HTMLElement).inert)).toBe(false);
  });

  it('with --new-token: the tab stops retrying and says which URL to open and how to print it', async () => {
    const old = server!.token;
    await server!.stop();
    server = await startBrowserMode(home, {}, { port, args: ['--new-token'] });
    expect(server.token).not.toBe(old);

    await expect.poll(() => signedOut().count(), { timeout: 20_000 }).toBe(1);
    const words = (await signedOut().textContent()) ?? '';
    expect(words).toContain(`iCBD Console (browser mode): http://127.0.0.1:${port}/?token=…`);
    expect(words).toContain(`npm run serve -- --print-url --port ${port} --home ${home}`);
    expect(words).not.toContain(server.token);
    expect(await link().textContent()).toContain('Signed out');
    expect(await page.locator('main').evaluate((main) => (main as HTMLElement).inert)).toBe(true);
    await screenshots(page, 'browser-signed-out');

    const tries = sockets.length;
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(sockets.length, 'a refused tab must not keep reconnecting').toBe(tries);

    const printed = await promisify(execFile)('npx', ['tsx', 'electron/serve.ts', '--print-url', '--port', String(port), '--home', home], { cwd: ROOT });
    expect(printed.stdout).toBe(`${server.url}\n`);
    await page.goto(printed.stdout.trim());
    await expect.poll(() => link().textContent(), { timeout: 10_000 }).toContain('Connected');
    expect(await signedOut().count()).toBe(0);
    expect(await page.getByRole('rowheader', { name: 'imgs', exact: true }).count()).toBe(1);
  });
});
