/**
 * The terminal view's own keys. Everything else, Escape and Ctrl+C included, belongs to the shell,
 * so these all need Ctrl+Shift, which shells do not use.
 */
export const TERMINAL_SHORTCUTS = {
  copy: 'Ctrl+Shift+C',
  paste: 'Ctrl+Shift+V',
  newTab: 'Ctrl+Shift+T',
  leave: 'Ctrl+Shift+↑',
} as const;

export type TerminalShortcut = keyof typeof TERMINAL_SHORTCUTS;

export function terminalShortcut(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'shiftKey' | 'altKey' | 'metaKey'>): TerminalShortcut | undefined {
  if (!event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return undefined;
  switch (event.key.toLowerCase()) {
    case 'c':
      return 'copy';
    case 'v':
      return 'paste';
    case 't':
      return 'newTab';
    case 'arrowup':
      return 'leave';
    default:
      return undefined;
  }
}
