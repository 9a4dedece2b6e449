import type { ITheme } from '@xterm/xterm';

const ANSI = [
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white',
  'brightBlack',
  'brightRed',
  'brightGreen',
  'brightYellow',
  'brightBlue',
  'brightMagenta',
  'brightCyan',
  'brightWhite',
] as const;

/**
 * xterm takes colours as values, not CSS: they are read from app.css's --term-* variables, so the
 * terminal follows the same light/dark switch as the rest of the window.
 */
export function terminalTheme(): ITheme {
  const style = getComputedStyle(document.documentElement);
  const value = (name: string) => style.getPropertyValue(`--term-${name}`).trim();
  const theme: ITheme = {
    background: value('bg'),
    foreground: value('fg'),
    cursor: value('cursor'),
    cursorAccent: value('bg'),
    selectionBackground: value('selection'),
  };
  ANSI.forEach((name, i) => (theme[name] = value(`ansi-${i}`)));
  return theme;
}

export function terminalFont(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--mono').trim();
}

/** Calls `changed` whenever the OS switches between light and dark, until the returned function is called. */
export function followColorScheme(changed: () => void): () => void {
  const query = matchMedia('(prefers-color-scheme: dark)');
  query.addEventListener('change', changed);
  return () => query.removeEventListener('change', changed);
}
