import type { Session, WebContents } from 'electron';
import { isRendererUrl } from './app-protocol.ts';

/**
 * The window only ever shows app://renderer/: it may not navigate or be redirected away, open
 * windows (links included: the renderer has no reason to), or attach a <webview>. Applied to
 * every webContents the app creates, so nothing made later escapes it.
 */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Schemes that reach the network or the disk; the renderer's own files come over app://. */
const OUTSIDE = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

export function reachesOutside(url: string): boolean {
  try {
    return OUTSIDE.has(new URL(url).protocol);
  } catch {
    return true;
  }
}

/**
 * One permission is granted, and only to our renderer's main frame: notifications (a long job's
 * end while the window is in the background). Nothing else ever is or is reported as granted
 * (camera, clipboard reads, devices...), and no request leaves for the network or the disk: the
 * CSP already says so to the page, this says so to Chromium.
 */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(permission === 'notifications' && details.isMainFrame && isRendererUrl(details.requestingUrl)),
  );
  session.setPermissionCheckHandler((_contents, permission, origin) => permission === 'notifications' && isRendererUrl(origin));
  session.setDevicePermissionHandler(() => false);
  session.setSpellCheckerEnabled(false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: reachesOutside(details.url) }));
}
