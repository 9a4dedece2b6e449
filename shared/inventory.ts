import { z } from 'zod';
import { AppError } from './errors.ts';
import { address, hostName, keyPath, port, userName } from './names.ts';

export const ROLES = ['imgs', 'rw', 'home', 'cache'] as const;
export const role = z.enum(ROLES, { message: 'The role is one of imgs, rw, home, cache.' });
export type Role = z.infer<typeof role>;

export const ROLE_LABELS: Record<Role, string> = {
  imgs: 'Image repository',
  rw: 'Read/write space',
  home: 'Home accounts',
  cache: 'Cache nodes',
};

/** The roles that hold an image repository: what replication reads, plans for and shows. */
export const REPO_ROLES: ReadonlySet<Role> = new Set(['imgs', 'cache']);

export const host = z.object({
  name: hostName,
  address,
  port: port.default(22),
  user: userName.default('root'),
  role,
  jump: hostName.optional(),
  identityFile: keyPath.optional(),
  notes: z.string().max(2000, 'Notes have at most 2000 characters.').optional(),
});
export type Host = z.infer<typeof host>;

/** The host named `name`; NOT_FOUND, in the same words wherever it is asked, when there is none. */
export function findHost(hosts: readonly Host[], name: string): Host {
  const found = hosts.find((h) => h.name === name);
  if (!found) throw new AppError('NOT_FOUND', `There is no host named ${name} in the inventory.`);
  return found;
}

/** A host an import proposes: complete but for its role when nothing suggested one (the operator picks). */
export const proposedHost = host.extend({ role: role.optional() });
export type ProposedHost = z.infer<typeof proposedHost>;

export const inventory = z.object({
  version: z.literal(1),
  hosts: z.array(host),
});
export type Inventory = z.infer<typeof inventory>;

/**
 * The rules that involve more than one host: unique names, jump hosts that exist, no jump cycles.
 * Returns the problems as [field, message] so a form can show each one in place.
 */
export function inventoryProblems(hosts: readonly Host[]): { host: string; field: keyof Host; message: string }[] {
  const problems: { host: string; field: keyof Host; message: string }[] = [];
  const byName = new Map<string, Host>();
  for (const h of hosts) {
    if (byName.has(h.name)) problems.push({ host: h.name, field: 'name', message: `There is already a host named ${h.name}.` });
    byName.set(h.name, h);
  }
  for (const h of hosts) {
    if (h.jump === undefined) continue;
    if (h.jump === h.name) {
      problems.push({ host: h.name, field: 'jump', message: 'A host cannot be its own jump host.' });
      continue;
    }
    if (!byName.has(h.jump)) {
      problems.push({ host: h.name, field: 'jump', message: `The jump host ${h.jump} is not in the inventory.` });
      continue;
    }
    const seen = new Set([h.name]);
    for (let j: Host | undefined = byName.get(h.jump); j; j = j.jump ? byName.get(j.jump) : undefined) {
      if (seen.has(j.name)) {
        problems.push({ host: h.name, field: 'jump', message: `The jump chain of ${h.name} loops back through ${j.name}.` });
        break;
      }
      seen.add(j.name);
    }
  }
  return problems;
}

/** The chain of hosts to go through to reach `name`, outermost first (imgs before cache01). */
export function jumpChain(hosts: readonly Host[], name: string): Host[] {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const chain: Host[] = [];
  for (let h = byName.get(name); h?.jump; h = byName.get(h.jump)) {
    const next = byName.get(h.jump);
    if (!next || chain.includes(next)) break;
    chain.unshift(next);
  }
  return chain;
}
