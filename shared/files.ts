import { z } from 'zod';
import { localFilePath } from './names.ts';

/** One entry of a directory on the core's machine, as the file browser of browser mode lists it. */
export const fileEntry = z.object({
  name: z.string(),
  /** What the entry is once symbolic links are followed; 'other' for sockets, devices, broken links. */
  kind: z.enum(['dir', 'file', 'other']),
  /** Bytes, for files. */
  size: z.number().nonnegative().nullable(),
});
export type FileEntry = z.infer<typeof fileEntry>;

export const fileListing = z.object({
  /** The directory listed, absolute and normalised (no "..", no trailing "/"). */
  path: localFilePath,
  /** Its parent, or null at the root. */
  parent: localFilePath.nullable(),
  /** Directories first, then by name. */
  entries: z.array(fileEntry),
  /** Set when the directory had more entries than are listed. */
  truncated: z.boolean(),
});
export type FileListing = z.infer<typeof fileListing>;
