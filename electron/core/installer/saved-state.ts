import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { installState, type InstallState } from '../../../shared/install.ts';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../util/files.ts';

export type Saved = Omit<InstallState, 'proposed'>;
const saved = installState.omit({ proposed: true });

/**
 * A run that changes a host without being its install: trust (the platform's SSH table) or
 * replication's node keys (one direction of it). Kept apart from the host's own record because
 * that one says how the host's install went (the wizard resumes from it), and because the keys
 * may be set up on a node never installed from here, which has no record to put it in.
 */
export const hold = z.object({
  kind: z.enum(['trust', 'keys']),
  /** The trust job's id, or one made for the keys request. */
  jobId: z.string(),
  startedAt: z.number(),
  pid: z.number().int(),
});
export type Hold = z.infer<typeof hold>;

/** How a record written by some process is told live from left behind (see isLive). */
export interface Liveness {
  pid: number;
  /** This process's runs and holds still going, by id. */
  ours(id: string): boolean;
  alive(pid: number): boolean;
}

/**
 * Whether the process that wrote a record still runs what it says. A record of this process's pid
 * is live only while its id is one of ours: the pid may be an old process's, reused.
 */
export function isLive(r: { jobId: string; pid: number }, l: Liveness): boolean {
  return r.pid === l.pid ? l.ours(r.jobId) : l.alive(r.pid);
}

const since = (t: number) => new Date(t).toLocaleTimeString();

/** What keeps a host from another run now, and what to do about it; undefined when nothing does. */
export function busyWith(s: Saved | undefined, h: Hold | undefined, l: Liveness): string | undefined {
  const run = s?.run;
  if (run?.state === 'running' && isLive(run, l)) return `${run.kind === 'apply' ? 'an apply' : 'a reboot'} is already running (since ${since(run.startedAt)}); wait for it or cancel it`;
  if (h && isLive(h, l)) {
    return h.kind === 'trust'
      ? `SSH trust between the nodes is being set up on it (since ${since(h.startedAt)}); wait for that job or cancel it`
      : `replication's node keys are being set up on it (since ${since(h.startedAt)}); wait for that to finish`;
  }
  return undefined;
}

/**
 * What the console remembers of each host's install, one JSON file per host in the data
 * directory, replaced atomically: the wizard's stage and choices and the last run, so that a window
 * (or CLI) opened later shows where the host stood. The host itself is the truth; this only says
 * what was being done to it. A hold (above) is a file of its own under holds/, changed under the
 * same lock as the host's record, so a run and a hold are never both taken.
 */
export class InstallStore {
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'install');
  }

  async read(host: string): Promise<Saved | undefined> {
    return parse(saved, await readFileIfExists(this.#path(host)));
  }

  async hold(host: string): Promise<Hold | undefined> {
    return parse(hold, await readFileIfExists(this.#holdPath(host)));
  }

  /** Read-modify-write under a lock: the window and a CLI may both update one host. `fn` may throw to change nothing. */
  async update(host: string, fn: (s: Saved | undefined, h: Hold | undefined) => Saved): Promise<Saved> {
    const path = this.#path(host);
    return withFileLock(path, async () => {
      const next = fn(await this.read(host), await this.hold(host));
      await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n');
      return next;
    });
  }

  /** The host's hold replaced by `fn`'s (none: removed), under the host's lock. `fn` may throw to change nothing. */
  async setHold(host: string, fn: (s: Saved | undefined, h: Hold | undefined) => Hold | undefined): Promise<void> {
    const path = this.#holdPath(host);
    await withFileLock(this.#path(host), async () => {
      const next = fn(await this.read(host), await this.hold(host));
      if (next) await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n');
      else await rm(path, { force: true });
    });
  }

  /** Every host remembered, most recently run first. */
  async list(): Promise<Saved[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const all = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -'.json'.length))));
    return all.filter((s): s is Saved => s !== undefined).sort((a, b) => (b.run?.startedAt ?? 0) - (a.run?.startedAt ?? 0));
  }

  // host names are validated by the contract (shared/names.ts): no separators, no dots
  #path(host: string): string {
    return join(this.dir, `${host}.json`);
  }

  #holdPath(host: string): string {
    return join(this.dir, 'holds', `${host}.json`);
  }
}

function parse<T>(schema: z.ZodType<T>, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
