import { homedir } from 'node:os';
import { AppError } from '../../../shared/errors.ts';
import { listDirectory } from '../files/directory.ts';
import type { Handlers } from './types.ts';

/** files.pick is the window's own (core options.doorHandlers): any other door refuses it here. */
export function fileHandlers(): Handlers<'files.list' | 'files.pick'> {
  return {
    'files.list': ({ path }) => listDirectory(path ?? homedir()),
    'files.pick': async () => {
      throw new AppError('UNAVAILABLE', 'Only the desktop window has a file dialog: choose the file with the file browser (files.list), or type its path.');
    },
  };
}
