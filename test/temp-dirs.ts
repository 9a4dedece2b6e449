import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Directories of a test file's own (`icbd-NAME-KEY-…` in the temp directory), made when its tests
 * start and removed with all in them when they end. Vitest runs no hook of a file whose tests are
 * all skipped, so a skipped file (ICBD_LAB_TESTS=skip) makes none; read one only in a hook or a
 * test: before they start there is none to read, and reading it throws.
 */
export function tempDirs<const K extends string>(name: string, keys: readonly K[]): Readonly<Record<K, string>> {
  const made = new Map<K, string>();
  beforeAll(() => {
    for (const key of keys) made.set(key, fs.mkdtempSync(path.join(os.tmpdir(), `icbd-${name}-${key}-`)));
  });
  afterAll(() => {
    for (const dir of made.values()) fs.rmSync(dir, { recursive: true, force: true });
  });
  const dirs = {} as Record<K, string>;
  for (const key of keys)
    Object.defineProperty(dirs, key, {
      enumerable: true,
      get: () => made.get(key) ?? notYet(`${name}'s ${key} directory`),
    });
  return dirs;
}

/** What a handle answers when read before its file's tests start. */
export function notYet(what: string): never {
  throw new Error(`${what} is made when the file's tests start: read it in a hook or a test.`);
}
