import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../temp-dirs.ts';
import { buildRenderer, launchChromium, ROOT } from './browser.ts';

/**
 * `icbd serve --open` (what `npm start` runs without Electron): the browser it starts is handed a
 * one-time code, never the token, since every local user reads a process's arguments in /proc; and
 * the cookie the token becomes is never sent to another local web server.
 */

const dirs = tempDirs('serve-open', ['home', 'bin']);
beforeAll(() => buildRenderer(), 120_000);

/** A browser stand-in: notes its arguments, opens the URL as a browser would (trading the code), then stays, as a browser does. */
const FAKE_BROWSER = `#!/usr/bin/env node
const { writeFileSync } = require('node:fs');
const url = process.argv.slice(2).map((a) => a.replace(/^--app=/, '')).find((a) => a.startsWith('http'));
fetch(url, { redirect: 'manual' }).then((res) => {
  writeFileSync(process.env.FAKE_BROWSER_LOG + '.tmp', JSON.stringify({ args: process.argv.slice(2), url, status: res.status, cookie: res.headers.get('set-cookie') }));
  require('node:fs').renameSync(process.env.FAKE_BROWSER_LOG + '.tmp', process.env.FAKE_BROWSER_LOG);
});
setInterval(() => {}, 1000);
`;

interface Opened {
  args: string[];
  url: string;
  status: number;
  cookie: string | null;
}

const started: ChildProcess[] = [];
/** The fake browsers: serve starts them on their own, as a desktop's opener does, so they outlive it. */
const browsers: number[] = [];
afterAll(() => {
  for (const child of started) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  for (const pid of browsers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** The first line `icbd serve` prints (its URL); an exit before it fails the test at once instead of at its timeout. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`icbd serve exited (${code}) before printing its URL`)));
  });
}

/** `icbd serve --open ...extra` with `env`; its printed token and what the browser it started saw. */
async function serveAndOpen(extra: string[], env: NodeJS.ProcessEnv): Promise<{ token: string; opened: Opened; browserPid: number }> {
  const log = join(dirs.bin, `opened-${started.length}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/serve/serve.ts', '--port', '0', '--home', dirs.home, '--open', ...extra], {
    cwd: ROOT,
    env: { ...process.env, ...env, FAKE_BROWSER_LOG: log },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  started.push(child);
  const first = await firstLine(child);
  const token = /\?token=(\S+)$/.exec(first)?.[1];
  if (!token) throw new Error(`unexpected first line: ${first}`);
  await expect.poll(() => existsSync(log), { timeout: 20_000 }).toBe(true);
  const opened = JSON.parse(readFileSync(log, 'utf8')) as Opened;
  const browserPid = processesHolding(opened.url)[0];
  if (browserPid === undefined) throw new Error('the fake browser is not running');
  browsers.push(browserPid);
  return { token, opened, browserPid };
}

/** The pids whose command line holds `text`: what any local user can read. */
function processesHolding(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('icbd serve --open', () => {
  it('hands the browser a one-time code, not the token: no command line holds the token, and the code opens once', async () => {
    const browser = join(dirs.bin, 'fake-browser');
    writeFileSync(browser, FAKE_BROWSER);
    chmodSync(browser, 0o755);
    const { token, opened, browserPid } = await serveAndOpen([], { BROWSER: browser });
    expect(opened.url).toMatch(/^http:\/\/127\.\d+\.\d+\.\d+:\d+\/\?code=[A-Za-z0-9_-]{22}$/);
    expect(processesHolding(opened.url)).toContain(browserPid);
    expect(processesHolding(token)).toEqual([]);
    // The browser got in: the code was traded for the cookie.
    expect(opened.status).toBe(303);
    expect(opened.cookie).toContain(`=${token};`);
    // Whoever read the code from /proc afterwards gets nothing.
    const again = await fetch(opened.url, { redirect: 'manual' });
    expect(again.status).toBe(401);
  });

  it('with --app (npm start without Electron) opens a Chromium app window, with a one-time code too', async () => {
    const chromium = join(dirs.bin, 'chromium');
    writeFileSync(chromium, FAKE_BROWSER);
    chmodSync(chromium, 0o755);
    const { token, opened } = await serveAndOpen(['--app'], { PATH: `${dirs.bin}:${process.env.PATH}`, BROWSER: '' });
    expect(opened.args).toEqual([`--app=${opened.url}`]);
    expect(opened.status).toBe(303);
    expect(processesHolding(token)).toEqual([]);
  });
});

describe("browser mode's cookie", () => {
  let other: Server;
  const seen: string[] = [];
  beforeAll(async () => {
    other = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.headers.cookie ?? ''}`);
      res.end('another local web server');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

  it('is never sent to another local web server, on 127.0.0.1 or localhost', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'electron/serve/serve.ts', '--port', '0', '--home', dirs.home], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    started.push(child);
    const first = await firstLine(child);
    const url = /(http:\/\/\S+)$/.exec(first)![1]!;
    const token = /\?token=(\S+)$/.exec(first)![1]!;
    const chromium = await launchChromium();
    try {
      const page = await (await chromium.newContext()).newPage();
      await page.goto(url);
      expect((await page.context().cookies()).map((c) => c.value)).toContain(token);
      const { port } = other.address() as AddressInfo;
      for (const host of ['127.0.0.1', 'localhost']) {
        await page.goto(`http://${host}:${port}/`);
        expect(await page.textContent('body')).toBe('another local web server');
      }
    } finally {
      await chromium.close();
    }
    // The pages and the favicons the browser asked for.
    expect(seen.map((request) => request.split(':')[0])).toEqual(expect.arrayContaining(['127.0.0.1', 'localhost']));
    for (const request of seen) expect(request).not.toContain(token);
  });
});
