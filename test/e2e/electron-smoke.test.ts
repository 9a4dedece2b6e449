import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../shared/client.ts';
import { electronBinary, hasDisplay } from '../../electron/main/electron-binary.ts';

/**
 * The real window, where Electron's binary is installed and a display exists. Elsewhere (this
 * machine cannot download Electron) the whole group is reported as skipped, with the reason.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'out/electron/main/main.cjs');
const binary = electronBinary();
const missing = !binary
  ? "Electron's binary is not installed (node node_modules/electron/install.js)"
  : !hasDisplay()
    ? 'no display (DISPLAY and WAYLAND_DISPLAY unset; run under xvfb-run)'
    : undefined;

type RendererWindow = { icbd?: Transport; require?: unknown; process?: unknown };

describe.skipIf(missing !== undefined)(`Electron window${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let app: ElectronApplication;
  let page: Page;
  let home: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    home = await mkdtemp(join(tmpdir(), 'icbd-electron-'));
    // Chromium will not start as root with its OS sandbox on (CI runs as root); the page keeps
    // contextIsolation and Electron's renderer sandbox either way.
    const args = process.getuid?.() === 0 ? ['--no-sandbox', MAIN] : [MAIN];
    app = await _electron.launch({ executablePath: binary, args, env: { ...process.env, ICBD_HOME: home }, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  afterAll(async () => {
    await app?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('opens the window on app://renderer with the data directory from ICBD_HOME', async () => {
    expect(page.url()).toBe('app://renderer/index.html');
    expect(await app.evaluate(({ app: electronApp }) => electronApp.getPath('userData'))).toBe(home);
  });

  it('gives the page window.icbd and neither require nor process', async () => {
    const globals = await page.evaluate(() => {
      const w = window as unknown as RendererWindow;
      return { icbd: typeof w.icbd, require: typeof w.require, process: typeof w.process };
    });
    expect(globals).toEqual({ icbd: 'object', require: 'undefined', process: 'undefined' });
  });

  it('answers hosts.list through the preload', async () => {
    const reply = await page.evaluate(() => (window as unknown as RendererWindow).icbd!.invoke('hosts.list', {}));
    expect(reply).toEqual({ ok: true, value: [] });
  });
});
