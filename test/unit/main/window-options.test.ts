import { describe, expect, it } from 'vitest';
import { BACKGROUND, DEFAULT_BOUNDS, windowOptions } from '../../../electron/main/window-options.ts';

const preload = '/app/out/electron/main/preload.cjs';

describe('windowOptions', () => {
  const options = windowOptions({ preload, dark: false });
  const web = options.webPreferences!;

  it.each([
    ['contextIsolation', true],
    ['sandbox', true],
    ['nodeIntegration', false],
    ['nodeIntegrationInWorker', false],
    ['nodeIntegrationInSubFrames', false],
    ['webSecurity', true],
    ['allowRunningInsecureContent', false],
    ['webviewTag', false],
    ['experimentalFeatures', false],
    ['enableWebSQL', false],
    ['spellcheck', false],
    ['navigateOnDragDrop', false],
    ['safeDialogs', true],
  ] as const)('sets %s to %s explicitly', (flag, value) => {
    expect(web).toHaveProperty(flag, value);
  });

  it('turns on no Blink feature and adds no command-line switch', () => {
    expect(web.enableBlinkFeatures).toBeUndefined();
    expect(web.additionalArguments).toBeUndefined();
    expect(web.partition).toBeUndefined();
  });

  it('loads the given preload and nothing else', () => {
    expect(web.preload).toBe(preload);
  });

  it('stays hidden until ready-to-show', () => {
    expect(options.show).toBe(false);
  });

  it('paints the background of the theme in use', () => {
    expect(windowOptions({ preload, dark: true }).backgroundColor).toBe(BACKGROUND.dark);
    expect(windowOptions({ preload, dark: false }).backgroundColor).toBe(BACKGROUND.light);
  });

  it('opens at the saved bounds, or at the default size', () => {
    expect(options).toMatchObject(DEFAULT_BOUNDS);
    expect(options.x).toBeUndefined();
    const saved = windowOptions({ preload, dark: false, bounds: { x: 40, y: 30, width: 1000, height: 700 } });
    expect(saved).toMatchObject({ x: 40, y: 30, width: 1000, height: 700 });
  });

  it('cannot be weakened through the saved bounds', () => {
    const hostile = { x: 0, y: 0, width: 1000, height: 700, webPreferences: { nodeIntegration: true } };
    expect(windowOptions({ preload, dark: false, bounds: hostile }).webPreferences).toHaveProperty('nodeIntegration', false);
  });
});
