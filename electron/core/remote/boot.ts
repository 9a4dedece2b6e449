import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../../shared/errors.ts';
import type { SshPool } from '../ssh/pool.ts';
import type { Remote } from './host.ts';

/*
 * What tells one boot from the next: the kernel's boot id and the start time of PID 1. A VM
 * gets a new boot id; a container shares its host's kernel, and nspawn's bind mount of boot_id
 * can even point at a deleted file after a restart (an empty read), but its PID 1 starts anew.
 */
const BOOT_MARKER = ['sh', '-c', 'cat /proc/sys/kernel/random/boot_id 2>/dev/null; cut -d" " -f22 /proc/1/stat'];

export async function bootId(remote: Remote): Promise<string> {
  const r = await remote.run(BOOT_MARKER, { timeoutMs: 15_000 });
  if (r.code !== 0 || !r.stdout.trim()) throw new AppError('REMOTE_FAILED', `Cannot tell the host's boot apart: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * Resolves once the host answers over SSH from a boot other than `before`. Answering alone is not
 * enough: right after `systemctl reboot` the old system may still be up for a moment.
 */
export async function waitForNewBoot(pool: SshPool, host: string, before: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  pool.disconnect(host);
  let last = '';
  while (Date.now() < deadline) {
    if (o.signal?.aborted) throw new AppError('CANCELLED', `Stopped waiting for ${host} to come back.`);
    try {
      const r = await pool.run(host, BOOT_MARKER, { allowFailure: true, timeoutMs: 10_000, ...(o.signal && { signal: o.signal }) });
      if (r.code === 0 && r.stdout.trim() && r.stdout.trim() !== before) return;
    } catch (err) {
      last = (err as Error).message;
      pool.disconnect(host);
    }
    await sleep(1000);
  }
  throw new AppError('TIMEOUT', `${host} did not come back over SSH within ${Math.round(o.timeoutMs / 1000)} s after the reboot${last ? ` (${last})` : ''}; look at its console.`);
}
