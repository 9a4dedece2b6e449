import { readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { FileEntry, FileListing } from '../../../shared/files.ts';
import { AppError } from '../../../shared/errors.ts';

/** A listing the window can draw at once; a directory with more says so instead of stalling. */
const MAX_ENTRIES = 5000;

/**
 * The entries of a directory of this machine, for the file browser: names, kinds (links
 * followed) and file sizes. Nothing is opened or changed.
 */
export async function listDirectory(path: string): Promise<FileListing> {
  // The contract takes Windows paths too; on this system they would be read relative to the cwd.
  if (!isAbsolute(path)) throw new AppError('INVALID_INPUT', `${path} is not an absolute path on this machine.`, { field: 'path' });
  const dir = resolve(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw listingError(err as NodeJS.ErrnoException, dir);
  }
  const entries = await Promise.all(names.slice(0, MAX_ENTRIES).map((name) => entryOf(dir, name)));
  entries.sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || a.name.localeCompare(b.name));
  return { path: dir, parent: dirname(dir) === dir ? null : dirname(dir), entries, truncated: names.length > MAX_ENTRIES };
}

async function entryOf(dir: string, name: string): Promise<FileEntry> {
  try {
    const s = await stat(join(dir, name));
    if (s.isDirectory()) return { name, kind: 'dir', size: null };
    if (s.isFile()) return { name, kind: 'file', size: s.size };
  } catch {
    // A broken link, or one into a directory this user cannot search: listed, but not choosable.
  }
  return { name, kind: 'other', size: null };
}

function listingError(err: NodeJS.ErrnoException, dir: string): AppError {
  switch (err.code) {
    case 'ENOENT':
      return new AppError('NOT_FOUND', `There is no directory ${dir} on this machine.`, { field: 'path' });
    case 'ENOTDIR':
      return new AppError('INVALID_INPUT', `${dir} is a file, not a directory.`, { field: 'path' });
    case 'EACCES':
    case 'EPERM':
      return new AppError('UNAUTHORIZED', `${dir} cannot be read by the user the console runs as: choose another directory.`, { field: 'path' });
    default:
      return new AppError('INTERNAL', `Could not list ${dir}: ${err.message}`);
  }
}
