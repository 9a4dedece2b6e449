import { join } from 'node:path';
import { z } from 'zod';
import type { Role } from '../../../shared/inventory.ts';
import { hostName } from '../../../shared/names.ts';
import type { SettingsPatch } from '../../../shared/replication.ts';
import { defaultRepoSettings, repoSettings, type RepoSettings } from '../../../shared/snapshots.ts';
import { readJsonFile, withFileLock, writeFileAtomic } from '../util/files.ts';

const file = z.object({ version: z.literal(1), nodes: z.record(hostName, repoSettings.partial()) });

/**
 * Per-node replication settings (`replication.json` in the data directory): only what differs
 * from the role's defaults is stored, so a changed default reaches every node that kept it.
 */
export class ReplicationSettings {
  readonly path: string;

  constructor(home: string) {
    this.path = join(home, 'replication.json');
  }

  async get(node: string, role: Role): Promise<RepoSettings> {
    const stored = (await this.#read()).nodes[node] ?? {};
    return repoSettings.parse({ ...defaultRepoSettings(role), ...stored });
  }

  /** A null in `patch` takes the setting back to its default (the replication address: none). */
  async set(node: string, role: Role, patch: SettingsPatch): Promise<RepoSettings> {
    return withFileLock(this.path, async () => {
      const all = await this.#read();
      const changed = Object.fromEntries(Object.entries({ ...all.nodes[node], ...patch }).filter(([, v]) => v !== null));
      const merged = repoSettings.parse({ ...defaultRepoSettings(role), ...changed });
      const defaults = defaultRepoSettings(role);
      all.nodes[node] = Object.fromEntries(Object.entries(merged).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k as keyof RepoSettings])));
      await writeFileAtomic(this.path, `${JSON.stringify(all, null, 2)}\n`);
      return merged;
    });
  }

  /** Checked as the API checks a change: what is read here ends up in remote commands. */
  async #read(): Promise<z.infer<typeof file>> {
    return (await readJsonFile(this.path, file, 'replication settings the console would accept')) ?? { version: 1, nodes: {} };
  }
}
