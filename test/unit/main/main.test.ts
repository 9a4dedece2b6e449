import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REQUEST_NAMES, ipcChannel } from '../../../shared/contract.ts';

/**
 * electron/main/main.ts against a stand-in for the electron module (the binary cannot run here): what
 * it does before `ready`, and what it wires once ready.
 */
const fake = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown;
  const calls: string[] = [];
  const record =
    (name: string, result?: unknown) =>
    (...args: unknown[]) => {
      calls.push(`${name}(${args.map((a) => (typeof a === 'string' ? a : typeof a)).join(', ')})`);
      return result;
    };
  const appListeners = new Map<string, Listener>();
  const windows: { options: Record<string, unknown>; emit(event: string): void; focus: () => void; listenerCount(event: string): number; loadedURL?: string }[] = [];
  // A fresh `ready` per test: each test loads main.ts anew, and only its own copy may start.
  const state = { ready: Promise.resolve(), markReady: () => {}, lock: { granted: true } };
  const resetReady = () => {
    state.ready = new Promise<void>((resolve) => (state.markReady = resolve));
  };
  return { calls, record, appListeners, windows, state, resetReady };
});

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const { vi: v } = await import('vitest');
  class BrowserWindow extends Emitter {
    readonly webContents = Object.assign(new Emitter(), { id: 1, send: v.fn(), isDestroyed: () => false, getURL: () => 'app://renderer/index.html' });
    loadedURL?: string;
    focus = v.fn();
    constructor(readonly options: Record<string, unknown>) {
      super();
      fake.windows.push(this);
    }
    loadURL(url: string) {
      this.loadedURL = url;
      return Promise.resolve();
    }
    isDestroyed = () => false;
    isMinimized = () => false;
    isMaximized = () => false;
    getNormalBounds = () => ({ x: 10, y: 10, width: 1000, height: 700 });
    show = v.fn();
    maximize = v.fn();
    restore = v.fn();
    setBackgroundColor = v.fn();
  }
  const session = {
    setPermissionRequestHandler: v.fn(),
    setPermissionCheckHandler: v.fn(),
    setDevicePermissionHandler: v.fn(),
    setSpellCheckerEnabled: v.fn(),
    webRequest: { onBeforeRequest: v.fn() },
  };
  return {
    app: {
      setPath: fake.record('app.setPath'),
      enableSandbox: fake.record('app.enableSandbox'),
      requestSingleInstanceLock: () => {
        fake.calls.push('app.requestSingleInstanceLock()');
        return fake.state.lock.granted;
      },
      quit: fake.record('app.quit'),
      exit: fake.record('app.exit'),
      on: (event: string, listener: (...args: unknown[]) => unknown) => void fake.appListeners.set(event, listener),
      whenReady: () => fake.state.ready,
      isPackaged: false,
    },
    BrowserWindow,
    dialog: { showErrorBox: fake.record('dialog.showErrorBox'), showMessageBox: v.fn(), showOpenDialog: v.fn() },
    powerSaveBlocker: { start: v.fn(() => 1), stop: v.fn() },
    ipcMain: { handle: fake.record('ipcMain.handle'), removeHandler: v.fn() },
    Menu: { setApplicationMenu: fake.record('Menu.setApplicationMenu'), buildFromTemplate: (template: unknown) => template },
    nativeTheme: Object.assign(new Emitter(), { shouldUseDarkColors: true }),
    protocol: { registerSchemesAsPrivileged: fake.record('protocol.registerSchemesAsPrivileged'), handle: fake.record('protocol.handle') },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: { defaultSession: session },
    shell: { openPath: v.fn() },
  };
});

const electron = await import('electron');
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'icbd-main-'));
  vi.stubEnv('ICBD_HOME', home);
  fake.calls.length = 0;
  fake.appListeners.clear();
  fake.windows.length = 0;
  fake.state.lock.granted = true;
  fake.resetReady();
  vi.resetModules();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(home, { recursive: true, force: true });
});

describe('electron/main/main.ts', () => {
  it('before ready: userData is the data dir before anything else; then the sandbox, the privileged scheme and the single-instance lock', async () => {
    await import('../../../electron/main/main.ts');
    const setUserData = fake.calls.indexOf(`app.setPath(userData, ${home})`);
    expect(setUserData).toBe(0);
    expect(fake.calls).toContain(`app.setPath(sessionData, ${join(home, 'chromium')})`);
    expect(fake.calls).toContain('app.enableSandbox()');
    expect(fake.calls).toContain('protocol.registerSchemesAsPrivileged(object)');
    expect(fake.calls.indexOf('app.requestSingleInstanceLock()')).toBeGreaterThan(setUserData);
    // Nothing that needs `ready` has happened yet.
    expect(fake.calls.filter((c) => c.startsWith('ipcMain') || c.startsWith('protocol.handle'))).toEqual([]);
  });

  it('quits at once when another instance holds the lock, wiring nothing', async () => {
    fake.state.lock.granted = false;
    await import('../../../electron/main/main.ts');
    expect(fake.calls).toContain('app.quit()');
    expect(fake.appListeners.size).toBe(0);
  });

  it('once ready: the app:// protocol, one ipc handler per contract request, hardening, menu, then the window', async () => {
    await import('../../../electron/main/main.ts');
    fake.state.markReady();
    await until(() => fake.windows.length === 1 && fake.windows[0]!.loadedURL !== undefined);

    expect(fake.calls).toContain('protocol.handle(app, function)');
    const channels = fake.calls.filter((c) => c.startsWith('ipcMain.handle(')).map((c) => c.slice('ipcMain.handle('.length, c.indexOf(',')));
    expect(channels.sort()).toEqual(REQUEST_NAMES.map(ipcChannel).sort());
    expect(fake.calls).toContain('Menu.setApplicationMenu(object)');
    // Quitting with transfers running asks first (transfer-guard.test.ts tests what it asks).
    expect(fake.appListeners.has('before-quit')).toBe(true);
    expect(fake.windows[0]!.listenerCount('close')).toBeGreaterThan(0);

    const session = electron.session.defaultSession;
    const deny = vi.fn();
    vi.mocked(session.setPermissionRequestHandler).mock.calls[0]![0]!({} as never, 'media', deny, {} as never);
    expect(deny).toHaveBeenCalledWith(false);
    expect(vi.mocked(session.setPermissionCheckHandler).mock.calls[0]![0]!(null, 'clipboard-read', 'app://renderer', {} as never)).toBe(false);

    const window = fake.windows[0]!;
    expect(window.loadedURL).toBe('app://renderer/index.html');
    const web = window.options.webPreferences as Record<string, unknown>;
    expect(web).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(web.preload)).toMatch(/preload\.cjs$/);

    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    fake.appListeners.get('web-contents-created')!({}, contents);
    const navigation = { preventDefault: vi.fn() };
    contents.emit('will-navigate', navigation);
    expect(navigation.preventDefault).toHaveBeenCalled();
    expect(contents.setWindowOpenHandler.mock.calls[0]![0]()).toEqual({ action: 'deny' });

    fake.appListeners.get('second-instance')!();
    expect(window.focus).toHaveBeenCalled();

    const quit = { preventDefault: vi.fn() };
    fake.appListeners.get('will-quit')!(quit);
    await until(() => fake.calls.includes('app.exit(number)'));
    expect(quit.preventDefault).toHaveBeenCalled();
  });
});
