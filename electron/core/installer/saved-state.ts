import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { installState, type InstallState } from '../../../shared/install.ts';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../files.ts';

export type Saved = Omit<InstallState, 'proposed'>;
const saved = installState.omit({ proposed: true });

/**
 * What the console remembers of each host's install, one JSON file per host in the data
 * directory, replaced atomically: the wizard's stage and choices and the last run, so that a window
 * (or CLI) opened later shows where the host stood. The host itself is the truth; this only says
 * what was being done to it.
 */
export class InstallStore {
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'install');
  }

  async read(host: string): Promise<Saved | undefined> {
    const text = await readFileIfExists(this.#path(host));
    if (text === undefined) return undefined;
    try {
      const parsed = saved.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Read-modify-write under a lock: the window and a CLI may both update one host. */
  async update(host: string, fn: (s: Saved | undefined) => Saved): Promise<Saved> {
    const path = this.#path(host);
    return withFileLock(path, async () => {
      const next = fn(await this.read(host));
      await writeFileAtomic(path, JSON.stringify(next, null, 2) + '\n');
      return next;
    });
  }

  /** Every host remembered, most recently run first. */
  async list(): Promise<Saved[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const all = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -'.json'.length))));
    return all.filter((s): s is Saved => s !== undefined).sort((a, b) => (b.run?.startedAt ?? 0) - (a.run?.startedAt ?? 0));
  }

  #path(host: string): string {
    // host names are validated by the contract (shared/names.ts): no separators, no dots
    return join(this.dir, `${host}.json`);
  }
}
