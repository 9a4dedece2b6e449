import type { WebContents, WebFrameMain } from 'electron';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_NAMES, REQUEST_NAMES, ipcChannel, ipcEventChannel, type Reply } from '../../../shared/contract.ts';
import { Core } from '../../../electron/core/core.ts';
import { REFUSED, forwardEvents, isTrustedSender, registerIpc, type DoorCore, type SenderEvent } from '../../../electron/main/ipc.ts';

type Handler = (event: SenderEvent, input: unknown) => Promise<Reply> | Reply;

/** ipcMain as far as registerIpc uses it: the handlers it registered, by channel. */
function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: vi.fn((channel: string, handler: Handler) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, handler);
    }),
    removeHandler: vi.fn((channel: string) => void handlers.delete(channel)),
  };
}

function fakeContents(id: number, url = 'app://renderer/index.html') {
  return { id, send: vi.fn(), isDestroyed: () => false, getURL: () => url } as unknown as WebContents & { send: ReturnType<typeof vi.fn> };
}

function senderEvent(sender: WebContents, frame: Partial<WebFrameMain> | null): SenderEvent {
  return { sender, senderFrame: frame as WebFrameMain | null };
}

const mainFrame = (url = 'app://renderer/index.html') => ({ parent: null, url });
const ourWindow = fakeContents(1);

describe('isTrustedSender', () => {
  it('accepts the main frame of our window showing app://renderer', () => {
    expect(isTrustedSender(senderEvent(ourWindow, mainFrame()), ourWindow)).toBe(true);
    expect(isTrustedSender(senderEvent(ourWindow, mainFrame('app://renderer/hosts?x=1')), ourWindow)).toBe(true);
  });

  it.each([
    ['another webContents', senderEvent(fakeContents(2), mainFrame()), ourWindow],
    ['a subframe of our window', senderEvent(ourWindow, { parent: {} as WebFrameMain, url: 'app://renderer/index.html' }), ourWindow],
    ['a frame showing a web page', senderEvent(ourWindow, mainFrame('https://example.com/')), ourWindow],
    ['a frame on another host of the scheme', senderEvent(ourWindow, mainFrame('app://other/index.html')), ourWindow],
    ['a file:// page', senderEvent(ourWindow, mainFrame('file:///work/main/out/renderer/index.html')), ourWindow],
    ['a frame that is gone', senderEvent(ourWindow, null), ourWindow],
    ['any sender while there is no window', senderEvent(ourWindow, mainFrame()), undefined],
  ])('refuses %s', (_what, event, window) => {
    expect(isTrustedSender(event, window)).toBe(false);
  });
});

describe('registerIpc', () => {
  let home: string;
  let core: Core;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'icbd-ipc-'));
    core = new Core({ home, door: 'electron' });
  });
  afterEach(async () => {
    core.close();
    await rm(home, { recursive: true, force: true });
  });

  it('registers one handler per contract request, on its own channel, and nothing else', () => {
    const ipcMain = fakeIpcMain();
    registerIpc(ipcMain, core, () => ourWindow);
    expect([...ipcMain.handlers.keys()].sort()).toEqual(REQUEST_NAMES.map(ipcChannel).sort());
  });

  it('dispatches a contract request from our window to the core', async () => {
    const ipcMain = fakeIpcMain();
    registerIpc(ipcMain, core, () => ourWindow);
    const trusted = senderEvent(ourWindow, mainFrame());

    expect(await ipcMain.handlers.get(ipcChannel('hosts.list'))!(trusted, {})).toEqual({ ok: true, value: [] });
    const info = await ipcMain.handlers.get(ipcChannel('app.info'))!(trusted, {});
    expect(info).toMatchObject({ ok: true, value: { door: 'electron', home } });
  });

  it("passes the core's validation errors back as a Reply", async () => {
    const ipcMain = fakeIpcMain();
    registerIpc(ipcMain, core, () => ourWindow);
    const reply = await ipcMain.handlers.get(ipcChannel('hosts.remove'))!(senderEvent(ourWindow, mainFrame()), { name: '../etc' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses a foreign sender without reaching the core', async () => {
    const ipcMain = fakeIpcMain();
    const door: DoorCore = { dispatch: vi.fn(), on: vi.fn() };
    registerIpc(ipcMain, door, () => ourWindow);
    const foreign = senderEvent(fakeContents(7, 'https://example.com/'), mainFrame('https://example.com/'));

    for (const name of REQUEST_NAMES) expect(await ipcMain.handlers.get(ipcChannel(name))!(foreign, {})).toEqual(REFUSED);
    expect(door.dispatch).not.toHaveBeenCalled();
  });

  it('removes every handler it registered', () => {
    const ipcMain = fakeIpcMain();
    registerIpc(ipcMain, core, () => ourWindow)();
    expect(ipcMain.handlers.size).toBe(0);
  });
});

describe('forwardEvents', () => {
  const hosts = [{ name: 'imgs', address: '10.0.0.1', port: 22, user: 'root', role: 'imgs' as const }];

  it('sends each contract event to our window on its own channel', async () => {
    const home = await mkdtemp(join(tmpdir(), 'icbd-ipc-'));
    const core = new Core({ home, door: 'electron' });
    const window = fakeContents(1);
    forwardEvents(core, () => window);

    core.events.emit('hosts.changed', { hosts });
    expect(window.send).toHaveBeenCalledWith(ipcEventChannel('hosts.changed'), { hosts });
    await rm(home, { recursive: true, force: true });
  });

  it('subscribes to every contract event and unsubscribes from all of them', () => {
    const offs = EVENT_NAMES.map(() => vi.fn());
    const on = vi.fn((_name: string, _listener: unknown) => offs[on.mock.calls.length - 1]!);
    forwardEvents({ dispatch: vi.fn(), on } as DoorCore, () => undefined)();
    expect(on.mock.calls.map(([name]) => name).sort()).toEqual([...EVENT_NAMES].sort());
    for (const off of offs) expect(off).toHaveBeenCalledOnce();
  });

  it('sends nothing to a window that does not show our renderer, nor when there is none', () => {
    const listeners = new Map<string, (payload: unknown) => void>();
    const door = { dispatch: vi.fn(), on: (name: string, listener: (payload: unknown) => void) => (listeners.set(name, listener), () => {}) } as DoorCore;
    const elsewhere = fakeContents(1, 'https://example.com/');
    let window: WebContents | undefined = elsewhere;
    forwardEvents(door, () => window);

    listeners.get('hosts.changed')!({ hosts });
    window = undefined;
    listeners.get('hosts.changed')!({ hosts });
    expect(elsewhere.send).not.toHaveBeenCalled();
  });
});
