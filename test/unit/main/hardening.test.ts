import type { Session, WebContents } from 'electron';
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { hardenContents, hardenSession, reachesOutside } from '../../../electron/main/hardening.ts';

function fakeSession() {
  return {
    setPermissionRequestHandler: vi.fn(),
    setPermissionCheckHandler: vi.fn(),
    setDevicePermissionHandler: vi.fn(),
    setSpellCheckerEnabled: vi.fn(),
    webRequest: { onBeforeRequest: vi.fn() },
  };
}

describe('hardenContents', () => {
  it.each(['will-navigate', 'will-redirect', 'will-attach-webview'])('prevents %s', (event) => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    hardenContents(contents as unknown as WebContents);
    const prevented = { preventDefault: vi.fn() };
    contents.emit(event, prevented);
    expect(prevented.preventDefault).toHaveBeenCalledOnce();
  });

  it('denies every new window', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    hardenContents(contents as unknown as WebContents);
    const handler = contents.setWindowOpenHandler.mock.calls[0]![0] as (details: { url: string }) => unknown;
    for (const url of ['https://example.com/', 'app://renderer/index.html', 'file:///etc/passwd']) expect(handler({ url })).toEqual({ action: 'deny' });
  });
});

describe('hardenSession', () => {
  const session = fakeSession();
  hardenSession(session as unknown as Session);

  it('grants no permission and reports none as granted', () => {
    for (const permission of ['media', 'notifications', 'clipboard-read', 'openExternal', 'geolocation']) {
      const callback = vi.fn();
      session.setPermissionRequestHandler.mock.calls[0]![0]({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect(session.setPermissionCheckHandler.mock.calls[0]![0](null, permission, 'app://renderer', {})).toBe(false);
    }
    expect(session.setDevicePermissionHandler.mock.calls[0]![0]({ deviceType: 'usb' })).toBe(false);
    expect(session.setSpellCheckerEnabled).toHaveBeenCalledWith(false);
  });

  it('cancels requests for the network or the disk and lets app:// through', () => {
    const decide = (url: string) => {
      const callback = vi.fn();
      session.webRequest.onBeforeRequest.mock.calls[0]![0]({ url }, callback);
      return callback.mock.calls[0]![0] as { cancel: boolean };
    };
    for (const url of ['https://example.com/x.js', 'http://127.0.0.1:7421/', 'wss://example.com/', 'file:///etc/passwd'])
      expect(decide(url), url).toEqual({ cancel: true });
    expect(decide('app://renderer/assets/index.js')).toEqual({ cancel: false });
  });
});

describe('reachesOutside', () => {
  it('treats an unreadable URL as outside', () => {
    expect(reachesOutside('not a url')).toBe(true);
    expect(reachesOutside('devtools://devtools/bundled/inspector.html')).toBe(false);
  });
});
