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
    const request = (permission: string, details: { requestingUrl: string; isMainFrame: boolean }) => {
      const callback = vi.fn();
      session.setPermissionRequestHandler.mock.calls[0]![0]({}, permission, callback, details);
      return callback.mock.calls[0]![0] as boolean;
    };
    const check = (permission: string, origin: string) => session.setPermissionCheckHandler.mock.calls[0]![0](null, permission, origin, {}) as boolean;
    const ours = { requestingUrl: 'app://renderer/index.html', isMainFrame: true };
    for (const permission of ['media', 'clipboard-read', 'openExternal', 'geolocation']) {
      expect(request(permission, ours)).toBe(false);
      expect(check(permission, 'app://renderer')).toBe(false);
    }
    // Notifications, for a long job's end: to our renderer's main frame only.
    expect(request('notifications', ours)).toBe(true);
    expect(check('notifications', 'app://renderer')).toBe(true);
    expect(request('notifications', { requestingUrl: 'app://renderer/index.html', isMainFrame: false })).toBe(false);
    expect(request('notifications', { requestingUrl: 'https://example.org/', isMainFrame: true })).toBe(false);
    expect(check('notifications', 'https://example.org')).toBe(false);
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
