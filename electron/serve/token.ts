import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock, writeFileAtomic } from '../core/util/files.ts';

/**
 * Browser mode's token, kept in the data directory so that `icbd serve` restarted on the same
 * --home accepts the tabs it had (a service restart must not sign everyone out). The file is the
 * owner's alone (0600), like the rest of the data directory's secrets of access: whoever can read
 * it can already run the CLI on that directory. --new-token replaces it.
 */
export const TOKEN_FILE = 'serve-token';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export type StoredToken = { token: string } | { token?: undefined; why: string; missing?: true };

/** The kept token, or why there is none that may be used. Changes nothing. */
export async function storedToken(home: string): Promise<StoredToken> {
  const path = join(home, TOKEN_FILE);
  let fh;
  try {
    // O_NOFOLLOW: a symlink planted in the data directory must not choose the token.
    fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { why: `there is no ${path} yet`, missing: true };
    return { why: `${path} cannot be read (${code ?? (err as Error).message})` };
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) return { why: `${path} is not a plain file` };
    // Windows has no such mode bits; there the data directory's own ACL protects it.
    if (process.platform !== 'win32') {
      if (stat.uid !== process.getuid?.()) return { why: `${path} belongs to another user` };
      if (stat.mode & 0o077) return { why: `${path} could be read by other users (mode ${(stat.mode & 0o777).toString(8)}), so the token in it may be known` };
    }
    const token = (await fh.readFile('utf8')).trim();
    return TOKEN.test(token) ? { token } : { why: `${path} does not hold a token` };
  } finally {
    await fh.close();
  }
}

export interface ServeToken {
  token: string;
  /** What happened to the token, in words, for the line printed after the URL. */
  note: string;
}

/** The token this run serves with: the kept one, unless told to rotate or it may not be used. */
export function serveToken(home: string, o: { rotate?: boolean } = {}): Promise<ServeToken> {
  const path = join(home, TOKEN_FILE);
  // Two servers started at once on one data directory must not each make (and serve) their own.
  return withFileLock(path, async () => {
    let note: string;
    if (o.rotate) note = `New token (--new-token), kept in ${path}: tabs opened before must open this URL.`;
    else {
      const stored = await storedToken(home);
      if (stored.token !== undefined) return { token: stored.token, note: `Same token as before (kept in ${path}): tabs opened before the restart reconnect.` };
      note = stored.missing
        ? `New token, kept in ${path} for the next runs (--new-token replaces it).`
        : `New token, because ${stored.why}; kept in ${path} (0600): tabs opened before must open this URL.`;
    }
    const token = randomBytes(32).toString('base64url');
    await writeFileAtomic(path, `${token}\n`, 0o600);
    return { token, note };
  });
}
