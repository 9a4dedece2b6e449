import { app, dialog, ipcMain, nativeTheme, Notification, protocol, session } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Core } from './core/core.ts';
import { resolveHome } from './core/paths.ts';
import { APP_VERSION } from './core/version.ts';
import { PRIVILEGED_SCHEME, serveRenderer } from './app-protocol.ts';
import { hardenContents, hardenSession } from './hardening.ts';
import { forwardEvents, registerIpc } from './ipc.ts';
import { installContextMenu, installMenu } from './menu.ts';
import { openWindow, type OpenedWindow } from './window.ts';
import { backgroundFor } from './window-options.ts';

// This file is bundled to CommonJS as out/electron/main.cjs (build/bundle-electron.mjs), so
// __dirname is out/electron, in a checkout and inside the packaged app alike.
const PRELOAD = join(__dirname, 'preload.cjs');
const RENDERER_DIR = join(__dirname, '..', 'renderer');
const ICON = join(__dirname, '..', '..', 'resources', 'icon.png');

// The same data directory as the CLI and browser mode; before anything (the single-instance lock
// included) reads userData. Chromium's own files go to a subfolder, out of the operator's way.
const home = resolveHome();
app.setPath('userData', home);
app.setPath('sessionData', join(home, 'chromium'));
app.enableSandbox();
protocol.registerSchemesAsPrivileged([PRIVILEGED_SCHEME]);

if (app.requestSingleInstanceLock()) start();
else app.quit();

function start(): void {
  const core = new Core({ home, door: 'electron' });
  let opened: OpenedWindow | undefined;
  let opening: Promise<void> | undefined;
  const current = () => (opened && !opened.window.isDestroyed() ? opened.window : undefined);

  const show = () => {
    const window = current();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    } else {
      opening ??= openWindow({ home, preload: PRELOAD, icon: process.platform === 'linux' ? ICON : undefined })
        .then((result) => {
          opened = result;
        })
        .catch(fail)
        .finally(() => (opening = undefined));
    }
  };

  app.on('web-contents-created', (_event, contents) => {
    hardenContents(contents);
    installContextMenu(contents);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', (event) => {
    // Let the last window-state save land before the process goes.
    event.preventDefault();
    void (opened?.state.flush() ?? Promise.resolve())
      .then(() => core.close())
      .finally(() => app.exit(0));
  });

  app
    .whenReady()
    .then(() => {
      if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`The renderer is not built (${RENDERER_DIR} has no index.html): run \`npm run build\` first.`);
      core.open();
      hardenSession(session.defaultSession);
      serveRenderer(protocol, RENDERER_DIR);
      registerIpc(ipcMain, core, () => current()?.webContents);
      forwardEvents(core, () => current()?.webContents);
      // A scheduled run that failed reaches the operator even when the window is in the background.
      core.on('schedule.failed', ({ name, run }) => {
        if (!Notification.isSupported()) return;
        const note = new Notification({ title: `iCBD schedule ${name} failed`, body: run.message.split('\n')[0] ?? '' });
        note.on('click', show);
        note.show();
      });
      installMenu({ version: APP_VERSION, home, dev: !app.isPackaged, platform: process.platform }, current);
      nativeTheme.on('updated', () => current()?.setBackgroundColor(backgroundFor(nativeTheme.shouldUseDarkColors)));
      // Registered only now: no window can be made before ready.
      app.on('second-instance', show);
      app.on('activate', show);
      show();
    })
    .catch(fail);
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`iCBD Console could not start: ${message}`);
  dialog.showErrorBox('iCBD Console could not start', `${message}\n\nData directory: ${home}`);
  app.exit(1);
}
