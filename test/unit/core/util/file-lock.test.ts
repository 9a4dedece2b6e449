import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../../../electron/core/util/files.ts';

/** The lock between the window and the CLI, against real processes: one still running, one gone. */
let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'icbd-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A lock file as `pid` would have left it a minute ago. */
function oldLock(path: string, pid: number): void {
  writeFileSync(`${path}.lock`, String(pid));
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(`${path}.lock`, minuteAgo, minuteAgo);
}

describe('the file lock', () => {
  it('is not taken over from a slow holder that still runs, however old the lock', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      const path = join(dir, 'inventory.json');
      oldLock(path, holder.pid!);
      let ran = false;
      await expect(withFileLock(path, async () => void (ran = true))).rejects.toThrow(`locked by process ${holder.pid}, which is still running`);
      expect(ran).toBe(false);
    } finally {
      holder.kill();
    }
  }, 15_000);

  it('is taken over from a holder that died mid-write', async () => {
    const holder = spawn('true');
    await new Promise((resolve) => holder.once('exit', resolve));
    const path = join(dir, 'inventory.json');
    oldLock(path, holder.pid!);
    expect(await withFileLock(path, async () => 'ran')).toBe('ran');
  });
});
