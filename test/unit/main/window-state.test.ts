import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MIN_HEIGHT, MIN_WIDTH } from '../../../electron/main/window-options.ts';
import { WINDOW_STATE_FILE, isVisible, loadWindowState, restoredBounds, trackWindowState, type TrackedWindow, type WindowState } from '../../../electron/main/window-state.ts';

const laptop = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('isVisible', () => {
  it('accepts a window whose title strip is on a display', () => {
    expect(isVisible({ x: 100, y: 100, width: 1000, height: 700 }, [laptop])).toBe(true);
    expect(isVisible({ x: 2200, y: 100, width: 1000, height: 700 }, [laptop, rightMonitor])).toBe(true);
  });

  it('refuses a window left on a monitor that is gone, or pushed above or off the screen', () => {
    expect(isVisible({ x: 2200, y: 100, width: 1000, height: 700 }, [laptop])).toBe(false);
    expect(isVisible({ x: 100, y: -400, width: 1000, height: 700 }, [laptop])).toBe(false);
    expect(isVisible({ x: 1880, y: 100, width: 1000, height: 700 }, [laptop])).toBe(false);
  });
});

describe('restoredBounds', () => {
  const state: WindowState = { x: 2200, y: 100, width: 1600, height: 1200, maximized: true };

  it('keeps everything while the window is on a display', () => {
    expect(restoredBounds(state, [laptop, rightMonitor])).toEqual({ bounds: { x: 2200, y: 100, width: 1600, height: 1200 }, maximized: true });
  });

  it('drops the position of a window that would be off-screen and fits its size to the primary display', () => {
    expect(restoredBounds(state, [laptop])).toEqual({ bounds: { width: 1600, height: 1050 }, maximized: true });
    expect(restoredBounds({ ...state, width: 100, height: 100 }, [laptop]).bounds).toEqual({ width: MIN_WIDTH, height: MIN_HEIGHT });
  });

  it('has nothing to restore without a saved state', () => {
    expect(restoredBounds(undefined, [laptop])).toEqual({ maximized: false });
  });
});

describe('window-state.json', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'icbd-window-'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it.each([
    ['no file', undefined],
    ['broken JSON', '{"x": 1,'],
    ['a wrong shape', '{"x": "left", "y": 0, "width": 800, "height": 600, "maximized": false}'],
  ])('reads %s as no saved state', async (_what, text) => {
    if (text !== undefined) await writeFile(join(home, WINDOW_STATE_FILE), text);
    expect(await loadWindowState(home)).toBeUndefined();
  });

  it('saves the normal bounds when the window closes, and reads them back', async () => {
    const window = Object.assign(new EventEmitter(), {
      getNormalBounds: () => ({ x: 10, y: 20, width: 1100, height: 750 }),
      isMaximized: () => true,
    });
    const tracker = trackWindowState(window as unknown as TrackedWindow, home, (err) => {
      throw err;
    });
    window.emit('close');
    await tracker.flush();
    expect(await loadWindowState(home)).toEqual({ x: 10, y: 20, width: 1100, height: 750, maximized: true });
  });

  it('saves once after a burst of moves, with the last position', async () => {
    vi.useFakeTimers();
    try {
      let x = 0;
      const getNormalBounds = vi.fn(() => ({ x, y: 0, width: 1000, height: 700 }));
      const window = Object.assign(new EventEmitter(), { getNormalBounds, isMaximized: () => false });
      const tracker = trackWindowState(window as unknown as TrackedWindow, home, (err) => {
        throw err;
      });
      for (const position of [1, 2, 3, 4, 5]) {
        x = position;
        window.emit('move');
      }
      await vi.runAllTimersAsync();
      vi.useRealTimers();
      await tracker.flush();
      expect(getNormalBounds).toHaveBeenCalledOnce();
      const saved = JSON.parse(await readFile(join(home, WINDOW_STATE_FILE), 'utf8')) as WindowState;
      expect(saved.x).toBe(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
