import type { Host } from '../../../shared/inventory.ts';
import { knownHostName } from '../../../shared/ssh.ts';
import type { InventoryStore } from '../inventory/store.ts';
import { hostFieldMatches, parseKnownHosts, type KnownHosts } from '../ssh/known-hosts.ts';
import { readFileIfExists } from '../util/files.ts';

/**
 * Adds the lab's hosts (imgs first, so the others' jump host exists). A host of the same name that
 * is not the lab's own is kept and reported: the operator's real imgs must never be repointed.
 */
export async function addLabHosts(
  inventory: InventoryStore,
  hosts: readonly { name: string; role: Host['role']; address: string; port: number; jump?: string }[],
  identityFile: string,
): Promise<{ added: string[]; kept: string[] }> {
  const existing = new Map((await inventory.list()).map((h) => [h.name, h]));
  const added: string[] = [];
  const kept: string[] = [];
  const conflicting = new Set<string>();
  for (const h of [...hosts].sort((a, b) => Number(Boolean(a.jump)) - Number(Boolean(b.jump)))) {
    const have = existing.get(h.name);
    if (have) {
      if (have.address !== h.address || have.port !== h.port) {
        kept.push(
          `Kept the inventory's own ${h.name} (${have.address}:${have.port}); rename or remove it, then run lab up again to add the lab's ${h.name}.`,
        );
        conflicting.add(h.name);
      }
      continue;
    }
    if (h.jump && conflicting.has(h.jump)) {
      kept.push(`Did not add the lab's ${h.name}: it is reached through the lab's ${h.jump}, which the inventory names otherwise.`);
      continue;
    }
    await inventory.add({
      name: h.name,
      role: h.role,
      address: h.address,
      port: h.port,
      user: 'root',
      identityFile,
      notes: 'Demo lab host (npm run lab)',
      ...(h.jump && { jump: h.jump }),
    });
    added.push(h.name);
  }
  return { added, kept };
}

/**
 * The lab made its hosts' keys itself and wrote them to its known_hosts, so they are trusted
 * without asking. A key the app saved for the same lab address earlier (a lab since rebuilt) is
 * replaced: those addresses exist only inside the lab's own namespaces.
 */
export async function trustLabHostKeys(
  knownHosts: KnownHosts,
  labKnownHosts: string,
  hosts: readonly { address: string; port: number }[],
): Promise<number> {
  const lines = parseKnownHosts((await readFileIfExists(labKnownHosts)) ?? '', labKnownHosts);
  let added = 0;
  for (const h of hosts) {
    for (const line of lines.filter((l) => l.marker === undefined && hostFieldMatches(l.hosts, knownHostName(h.address, h.port)))) {
      const { state } = await knownHosts.check(h.address, h.port, line.key);
      if (state === 'known') continue;
      if (state === 'changed') await knownHosts.forget(h.address, h.port);
      await knownHosts.add(h.address, h.port, line.key);
      added++;
    }
  }
  return added;
}
