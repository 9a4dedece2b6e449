import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../util/files.ts';
import { isAlive } from '../util/pids.ts';

export const LEASE_FILE = 'scheduler.lease';

/** A holder on another machine (a data directory on shared storage) is dead when it stops renewing for this long. */
export const LEASE_STALE_MS = 120_000;

const lease = z.object({ pid: z.number().int(), host: z.string(), door: z.string(), since: z.number(), renewedAt: z.number() });
export type Lease = z.infer<typeof lease>;

/**
 * Which process runs the schedules of a data directory: the window, browser mode and the daemon
 * may all be open on it, and only one of them starts scheduled runs. The lease names its holder
 * (pid, machine); another process takes it over only once that holder is dead.
 */
export class SchedulerLease {
  readonly path: string;

  constructor(
    home: string,
    private readonly door: string,
    private readonly pid = process.pid,
    private readonly host = hostname(),
  ) {
    this.path = join(home, LEASE_FILE);
  }

  /** Takes or renews the lease; false while a live process holds it. */
  async acquire(now = Date.now()): Promise<boolean> {
    return withFileLock(this.path, async () => {
      const held = await this.holder();
      if (held && !this.#mine(held) && isHolderAlive(held, now)) return false;
      const since = held && this.#mine(held) ? held.since : now;
      await writeFileAtomic(this.path, JSON.stringify({ pid: this.pid, host: this.host, door: this.door, since, renewedAt: now } satisfies Lease) + '\n');
      return true;
    });
  }

  async release(): Promise<void> {
    await withFileLock(this.path, async () => {
      const held = await this.holder();
      if (held && this.#mine(held)) await writeFileAtomic(this.path, '');
    });
  }

  /** The holder as written, alive or not; undefined when none. */
  async holder(): Promise<Lease | undefined> {
    const text = await readFileIfExists(this.path);
    if (!text?.trim()) return undefined;
    try {
      const parsed = lease.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** The live holder, in words, for the list ("pid 1234 on mgmt01 (cli)"); null when none. */
  async describe(now = Date.now()): Promise<string | null> {
    const held = await this.holder();
    return held && isHolderAlive(held, now) ? `pid ${held.pid} on ${held.host} (${held.door === 'cli' ? 'icbd' : held.door})` : null;
  }

  #mine(l: Lease): boolean {
    return l.pid === this.pid && l.host === this.host;
  }
}

function isHolderAlive(l: Lease, now: number): boolean {
  return l.host === hostname() ? isAlive(l.pid) : now - l.renewedAt < LEASE_STALE_MS;
}
