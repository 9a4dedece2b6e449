import type { BrowserWindow, Dialog } from 'electron';
import type { Handlers } from '../core/handlers/types.ts';

/**
 * files.pick, answered by the operating system's open-file dialog, attached to our window (modal
 * to it, as desktop apps do). Only this door can show one; the core refuses it elsewhere.
 */
export function fileDialogHandlers(dialog: Pick<Dialog, 'showOpenDialog'>, window: () => BrowserWindow | undefined): Pick<Handlers, 'files.pick'> {
  return {
    'files.pick': async ({ title }) => {
      const options = { title: title ?? 'Choose a file', properties: ['openFile' as const, 'dontAddToRecent' as const] };
      const parent = window();
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
      return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
    },
  };
}
