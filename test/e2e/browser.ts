import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { notYet, tempDirs } from '../temp-dirs.ts';

/**
 * What every browser test needs: the renderer built, `icbd serve` on a scratch data directory,
 * Debian's Chromium, the CLI on the same data directory, and a watch on the page that turns any
 * console error or CSP violation into a test failure (browserSession puts these together).
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root to its end. */
function run(command: string, args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function buildRenderer(): Promise<void> {
  const built = await run('npx', ['vite', 'build', '--logLevel', 'warn']);
  if (built.code !== 0) throw new Error(`vite build failed:\n${built.stderr}${built.stdout}`);
}

/** `icbd --home HOME ...args`, as an operator would type it. */
export function cli(home: string, ...args: string[]): Promise<Ran> {
  return run('npx', ['tsx', 'electron/cli/cli.ts', '--home', home, ...args]);
}

export interface BrowserMode {
  /** The URL with the token, as printed. */
  url: string;
  origin: string;
  /** The loopback address it listens on (one of its own, see loopbackFor). */
  host: string;
  port: number;
  token: string;
  stop(): Promise<void>;
}

/**
 * `env` adds to this process's environment, e.g. a HOME whose ~/.ssh the test wrote; `port` (default
 * any free one) and `args` (e.g. --new-token) are the server's own options.
 */
export async function startBrowserMode(home: string, env: NodeJS.ProcessEnv = {}, o: { port?: number; args?: string[] } = {}): Promise<BrowserMode> {
  const child = spawn('npx', ['tsx', 'electron/serve/serve.ts', '--port', String(o.port ?? 0), '--home', home, ...(o.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`icbd serve exited with ${code} before printing its URL:\n${stderr}`)));
  });
  const match = /^iCBD Console \(browser mode\): (http:\/\/(127\.\d+\.\d+\.\d+):(\d+)\/\?token=(\S+))$/.exec(firstLine);
  if (!match) {
    await stopGroup(child);
    throw new Error(`Unexpected first line from icbd serve: ${firstLine}`);
  }
  const [, url, host, port, token] = match as unknown as [string, string, string, string, string];
  return { url, origin: `http://${host}:${port}`, host, port: Number(port), token, stop: () => stopGroup(child) };
}

/**
 * SIGTERM to the group npx started (npx, tsx and the server), SIGKILL if it lingers; done when no
 * process of the group is left: npx may exit before the server has finished writing its data directory.
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const group = -child.pid;
  const alive = () => {
    try {
      process.kill(group, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(group, 'SIGTERM');
  for (const deadline = Date.now() + 5000; alive(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) process.kill(group, 'SIGKILL');
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations, in order. */
  problems: string[];
}

export async function openWatchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  // Chromium also logs most violations to the console, but not all (e.g. report-only), so listen.
  await page.exposeBinding('__icbdCspViolation', (_source, text: string) => problems.push(`CSP: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __icbdCspViolation(text: string): void }).__icbdCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  return { page, problems };
}

/** NAME-light.png and NAME-dark.png in test-results/screenshots; the page is left in light. */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const paths: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const path = join(SCREENSHOTS, `${name}-${colorScheme}.png`);
    await page.screenshot({ path });
    paths.push(path);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return paths;
}

export interface BrowserSession {
  /** The server's data directory, which the CLI runs on too. */
  readonly home: string;
  /** The server the page was opened on; a test that restarts it puts the new one here, to be stopped at the end. */
  server: BrowserMode;
  readonly browser: Browser;
  readonly page: Page;
  /** The page's problems (see WatchedPage) since the last test ended. */
  readonly problems: string[];
}

export interface BrowserSessionOptions {
  /** The data directory of a lab session (its core put the lab's hosts there); by default one of the file's own. */
  home?: () => string;
  /** Before the server starts, on its data directory (files it reads); what it answers is added to its environment. */
  before?: (home: string) => Promise<NodeJS.ProcessEnv | void>;
  /** Once the browser and the server are gone, before the data directory is. */
  after?: () => Promise<void>;
  /** Where the page goes on the server, after the URL with the token (e.g. '#/install'). */
  hash?: string;
  /** The problems this file causes on purpose (a server stopped under the page); any other fails its test. */
  expected?: readonly RegExp[];
}

/**
 * A browser test file's session: the renderer built, the server started, Chromium on a watched page
 * of it, all made when the file's tests start and gone when they end; after each test, any problem
 * of the page not `expected` fails that test. A handle, live once the tests start.
 */
export function browserSession(name: string, o: BrowserSessionOptions = {}): BrowserSession {
  const own = o.home ? undefined : tempDirs(`e2e-${name}`, ['home']);
  const home = () => o.home?.() ?? own!.home;
  let server: BrowserMode | undefined;
  let browser: Browser | undefined;
  let watched: WatchedPage | undefined;
  beforeAll(async () => {
    await buildRenderer();
    server = await startBrowserMode(home(), (await o.before?.(home())) ?? {});
    browser = await launchChromium();
    watched = await openWatchedPage(browser);
    await watched.page.goto(`${server.url}${o.hash ?? ''}`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await o.after?.();
  });
  afterEach(() => {
    expect(session.problems.splice(0).filter((p) => !o.expected?.some((e) => e.test(p)))).toEqual([]);
  });
  const session: BrowserSession = {
    get home() {
      return home();
    },
    get server() {
      return server ?? notYet(`${name}'s server`);
    },
    set server(started) {
      server = started;
    },
    get browser() {
      return browser ?? notYet(`${name}'s browser`);
    },
    get page() {
      return (watched ?? notYet(`${name}'s page`)).page;
    },
    get problems() {
      return (watched ?? notYet(`${name}'s page`)).problems;
    },
  };
  return session;
}
