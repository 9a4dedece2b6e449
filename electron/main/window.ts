import { BrowserWindow, nativeTheme, screen } from 'electron';
import { RENDERER_URL } from './app-protocol.ts';
import { windowOptions } from './window-options.ts';
import { loadWindowState, restoredBounds, trackWindowState, type WindowStateTracker } from './window-state.ts';

export interface OpenWindowOptions {
  home: string;
  preload: string;
  icon?: string;
}

export interface OpenedWindow {
  window: BrowserWindow;
  state: WindowStateTracker;
}

/**
 * The one window: saved bounds if they are still on a screen, hidden until its first frame is
 * painted, then the renderer from app://renderer/.
 */
export async function openWindow({ home, preload, icon }: OpenWindowOptions): Promise<OpenedWindow> {
  const workAreas = screen.getAllDisplays().map((display) => display.workArea);
  const saved = restoredBounds(await loadWindowState(home), workAreas);
  const options = windowOptions({ preload, dark: nativeTheme.shouldUseDarkColors, bounds: saved.bounds, icon });
  // Electronegativity reads only literal options: test/unit/main/electronegativity.test.ts scans these
  // same options written out as a literal, so the checks are disabled on this line alone.
  const window = new BrowserWindow(options); // eng-disable CONTEXT_ISOLATION_JS_CHECK SANDBOX_JS_CHECK PRELOAD_JS_CHECK
  window.once('ready-to-show', () => {
    // maximize() also shows the window, so it waits for the first frame too.
    if (saved.maximized) window.maximize();
    window.show();
  });
  const state = trackWindowState(window, home, (err) => console.warn(`Could not save the window's size and position: ${String(err)}`));
  await window.loadURL(RENDERER_URL);
  return { window, state };
}
