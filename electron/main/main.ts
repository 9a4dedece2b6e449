// electron/main/: the window door, the Electron main process and its preload, around the core.
import { app, dialog, ipcMain, nativeTheme, powerSaveBlocker, protocol, session } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Core } from '../core/core.ts';
import { resolveHome } from '../core/util/paths.ts';
import { APP_VERSION } from '../core/util/version.ts';
import { PRIVILEGED_SCHEME, serveRenderer } from './app-protocol.ts';
import { installCli } from './install-cli.ts';
import { hardenContents, hardenSession } from './hardening.ts';
import { fileDialogHandlers } from './file-dialog.ts';
import { forwardEvents, registerIpc } from './ipc.ts';
import { installContextMenu, installMenu } from './menu.ts';
import { guardTransfers } from './transfer-guard.ts';
import { openWindow, type OpenedWindow } from './window.ts';
import { backgroundFor } from './window-options.ts';

// This file is bundled to CommonJS as out/electron/main/main.cjs (build/bundle-electron.mjs), so
// __dirname is out/electron/main, in a checkout and inside the packaged app alike.
const PRELOAD = join(__dirname, 'preload.cjs');
const RENDERER_DIR = join(__dirname, '..', '..', 'renderer');
const ICON = join(__dirname, '..', '..', '..', 'resources', 'icon.png');

// The same data directory as the CLI and browser mode; before anything (the single-instance lock
// included) reads userData. Chromium's own files go to a subfolder, out of the operator's way.
const home = resolveHome();
app.setPath('userData', home);
app.setPath('sessionData', join(home, 'chromium'));
app.enableSandbox();
protocol.registerSchemesAsPrivileged([PRIVILEGED_SCHEME]);

if (process.argv.includes('--install-cli')) installCliAndExit();
else if (app.requestSingleInstanceLock()) start();
else app.quit();

/** The AppImage's way to put `icbd` on PATH (the deb and rpm install it themselves). */
function installCliAndExit(): void {
  if (!process.env.APPIMAGE) {
    console.error('--install-cli is for the AppImage: the deb and rpm packages already put icbd on PATH.');
    return app.exit(2);
  }
  try {
    for (const line of installCli(process.env.APPIMAGE, join(__dirname, '..', '..', 'cli'), app.getPath('home'))) console.log(line);
    app.exit(0);
  } catch (err) {
    console.error(`icbd-console --install-cli: ${(err as Error).message}`);
    app.exit(1);
  }
}

function start(): void {
  let opened: OpenedWindow | undefined;
  let opening: Promise<void> | undefined;
  const current = () => (opened && !opened.window.isDestroyed() ? opened.window : undefined);
  const core = new Core({ home, door: 'electron', doorHandlers: fileDialogHandlers(dialog, current) });
  const guard = guardTransfers({ core, app, dialog, powerSaveBlocker, window: current });

  const show = () => {
    const window = current();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    } else {
      opening ??= openWindow({ home, preload: PRELOAD, icon: process.platform === 'linux' ? ICON : undefined })
        .then((result) => {
          opened = result;
          guard.watch(result.window);
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
