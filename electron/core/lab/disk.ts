import fs from 'node:fs';
import { run, runRaw, tryRun } from './exec.ts';

export const DISK_BYTES = 4 * 1024 ** 3;

/** Loop devices backed by `file` (found by the file, never by number: other tools hold loops too). */
export async function loopsOf(file: string): Promise<string[]> {
  if (!fs.existsSync(file)) return [];
  const r = await runRaw('losetup', ['-n', '-O', 'NAME', '-j', file]);
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/**
 * A fresh, empty, sparse disk: the guide's extra drive, as delivered. Container hosts get it
 * through a loop device; VMs open the file themselves.
 */
export async function freshDisk(file: string, attach = true, bytes = DISK_BYTES): Promise<string> {
  await detachDisk(file);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, bytes);
  return attach ? (await run('losetup', ['-f', '--show', file])).trim() : file;
}

/** The loop device of `file`, attaching it if it is not attached (after a crash, say). */
export async function attachDisk(file: string): Promise<string> {
  const [loop] = await loopsOf(file);
  return loop ?? (await run('losetup', ['-f', '--show', file])).trim();
}

export async function detachDisk(file: string): Promise<void> {
  for (const loop of await loopsOf(file)) {
    // a btrfs made on it stays registered in the kernel by device path; drop that too
    await tryRun('btrfs', ['device', 'scan', '--forget', loop]);
    await tryRun('losetup', ['-d', loop]);
  }
}
