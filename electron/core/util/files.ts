import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { AppError } from '../../../shared/errors.ts';

/**
 * Replace a file so that a reader sees the old content or the new, never a mix: write a temp file
 * beside it, flush it, rename it over the old one, flush the directory.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * A JSON file of the data directory, checked by `schema`; undefined when there is none. A file
 * that is not JSON or not what the schema says is refused in words naming the file and what is
 * wrong, never half-read: what is read here ends up in remote commands.
 */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  const text = await readFileIfExists(path);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AppError('INTERNAL', `${path} is not valid JSON (${(err as Error).message}); fix or move it away.`);
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`).join('; ');
  throw new AppError('INTERNAL', `${path} does not hold ${what} (${why}); fix or move it away.`, parsed.error.issues);
}

export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

/** Whether the process `pid` (read from a lock file) still runs; EPERM: it runs as another user. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Serialises read-modify-write of one file between processes (the window and the CLI may both
 * edit the inventory). The lock holds its holder's pid: a lock older than LOCK_STALE_MS is taken
 * over only when that process is gone (it died mid-write); a live holder, however slow, keeps it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      // No pid after 10 s: its maker died between creating the file and writing it.
      const alive = Number.isInteger(holder) && holder > 0 && running(holder);
      if (age > LOCK_STALE_MS && !alive) await rm(lock, { force: true });
      else if (Date.now() > deadline)
        throw new Error(`${path} is locked by ${alive ? `process ${holder}, which is still running` : 'another process'} (lock file ${lock}).`, { cause: err });
      else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
