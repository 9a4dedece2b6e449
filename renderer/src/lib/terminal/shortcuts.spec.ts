import { describe, expect, it } from 'vitest';
import { terminalShortcut } from './shortcuts.ts';

const key = (key: string, mods: Partial<Record<'ctrlKey' | 'shiftKey' | 'altKey' | 'metaKey', boolean>> = {}) => ({
  key,
  ctrlKey: false,
  shiftKey: false,
  altKey: false,
  metaKey: false,
  ...mods,
});
const ctrlShift = { ctrlKey: true, shiftKey: true };

describe('terminalShortcut', () => {
  it('knows the Ctrl+Shift keys of the view, whatever the letter case', () => {
    expect(terminalShortcut(key('C', ctrlShift))).toBe('copy');
    expect(terminalShortcut(key('v', ctrlShift))).toBe('paste');
    expect(terminalShortcut(key('T', ctrlShift))).toBe('newTab');
    expect(terminalShortcut(key('ArrowUp', ctrlShift))).toBe('leave');
  });

  it('leaves Escape, Ctrl+C and other keys to the shell', () => {
    expect(terminalShortcut(key('Escape'))).toBeUndefined();
    expect(terminalShortcut(key('Escape', ctrlShift))).toBeUndefined();
    expect(terminalShortcut(key('c', { ctrlKey: true }))).toBeUndefined();
    expect(terminalShortcut(key('C', { ...ctrlShift, altKey: true }))).toBeUndefined();
    expect(terminalShortcut(key('ArrowUp', { shiftKey: true }))).toBeUndefined();
  });
});
