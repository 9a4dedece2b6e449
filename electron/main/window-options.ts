import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (out/electron/main/preload.cjs). */
  preload: string;
  /** nativeTheme.shouldUseDarkColors: paints the window before the renderer's first frame. */
  dark: boolean;
  /** Saved bounds (window-state.ts); the default size otherwise. */
  bounds?: WindowBounds;
  /** Window icon for Linux (macOS and Windows take it from the bundle). */
  icon?: string;
}

export const DEFAULT_BOUNDS: WindowBounds = { width: 1280, height: 800 };
export const MIN_WIDTH = 900;
export const MIN_HEIGHT = 600;

/** Close to the renderer's own page colours, so showing the window does not flash white or black. */
// The renderer's --bg (renderer/src/app.css), so the window does not flash another colour on show.
export const BACKGROUND = { dark: '#1e1f22', light: '#ffffff' } as const;

export const backgroundFor = (dark: boolean) => (dark ? BACKGROUND.dark : BACKGROUND.light);

/**
 * Every option of the one window, security flags included, in one place that a test can read.
 * The renderer gets no Node, no Electron and no way to load anything but its own bundle: it talks
 * to the core only through the preload's window.icbd.
 */
export function windowOptions({ preload, dark, bounds, icon }: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    ...DEFAULT_BOUNDS,
    ...bounds,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    title: 'iCBD Console',
    // Shown on ready-to-show, once the first frame is painted.
    show: false,
    backgroundColor: backgroundFor(dark),
    ...(icon ? { icon } : {}),
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      enableWebSQL: false,
      // Chromium would fetch dictionaries from the network; the app loads nothing remote.
      spellcheck: false,
      // A file dropped on the window must not replace the app with that file.
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  };
}
