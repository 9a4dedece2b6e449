import type { BrowserWindow, Rectangle } from 'electron';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../core/util/files.ts';
import { MIN_HEIGHT, MIN_WIDTH, type WindowBounds } from './window-options.ts';

export const WINDOW_STATE_FILE = 'window-state.json';

const windowState = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof windowState>;

/** How much of the window's top edge must be on a screen for the user to grab and move it. */
const GRAB_WIDTH = 100;
const GRAB_HEIGHT = 30;

/** True when the window's title strip overlaps a display's work area enough to be grabbed. */
export function isVisible(bounds: Rectangle, workAreas: readonly Rectangle[]): boolean {
  const strip = { x: bounds.x, y: bounds.y, width: bounds.width, height: Math.min(GRAB_HEIGHT, bounds.height) };
  return workAreas.some((area) => {
    const width = Math.min(strip.x + strip.width, area.x + area.width) - Math.max(strip.x, area.x);
    const height = Math.min(strip.y + strip.height, area.y + area.height) - Math.max(strip.y, area.y);
    return width >= Math.min(GRAB_WIDTH, strip.width) && height >= strip.height;
  });
}

/**
 * The bounds to open with: the saved ones while they are still on a display; otherwise only the
 * size (no larger than the primary work area), and the window manager places the window.
 */
export function restoredBounds(state: WindowState | undefined, workAreas: readonly Rectangle[]): { bounds?: WindowBounds; maximized: boolean } {
  if (!state) return { maximized: false };
  const { x, y, width, height, maximized } = state;
  if (isVisible({ x, y, width, height }, workAreas)) return { bounds: { x, y, width, height }, maximized };
  const primary = workAreas[0];
  const fit = (size: number, min: number, max: number | undefined) => Math.max(min, Math.min(size, max ?? size));
  return { bounds: { width: fit(width, MIN_WIDTH, primary?.width), height: fit(height, MIN_HEIGHT, primary?.height) }, maximized };
}

/** The saved state, or undefined when there is none or it is unreadable: a bad file must never keep the window shut. */
export async function loadWindowState(home: string): Promise<WindowState | undefined> {
  try {
    const text = await readFileIfExists(join(home, WINDOW_STATE_FILE));
    if (text === undefined) return undefined;
    const parsed = windowState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function saveWindowState(home: string, state: WindowState): Promise<void> {
  await writeFileAtomic(join(home, WINDOW_STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

export type TrackedWindow = Pick<BrowserWindow, 'getNormalBounds' | 'isMaximized'> & {
  on(event: 'resize' | 'move' | 'close', listener: () => void): unknown;
};

export interface WindowStateTracker {
  /** Resolves once every save started so far has finished (the app waits for it before quitting). */
  flush(): Promise<void>;
}

const SAVE_DELAY_MS = 500;

/**
 * Saves the window's normal (not maximized) bounds and its maximized flag while the user moves or
 * resizes it, at most once per SAVE_DELAY_MS, and at once when it closes. Saves run one after
 * another so the last state written is the last state seen.
 */
export function trackWindowState(win: TrackedWindow, home: string, onError: (err: unknown) => void): WindowStateTracker {
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const save = () => {
    clearTimeout(timer);
    timer = undefined;
    const { x, y, width, height } = win.getNormalBounds();
    const state: WindowState = { x, y, width, height, maximized: win.isMaximized() };
    chain = chain.then(() => saveWindowState(home, state)).catch(onError);
  };
  const saveSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  };

  win.on('resize', saveSoon);
  win.on('move', saveSoon);
  win.on('close', save);
  return { flush: () => chain };
}
