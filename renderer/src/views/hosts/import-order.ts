/**
 * Hosts in an order that hosts.add accepts one by one: each jump host before the hosts that go
 * through it (imgs before cache01). Hosts in a jump cycle keep their order; the core refuses them
 * with its own words.
 */
export function jumpHostsFirst<T extends { name: string; jump?: string }>(hosts: readonly T[]): T[] {
  const ordered: T[] = [];
  let rest = [...hosts];
  while (rest.length) {
    const waiting = new Set(rest.map((h) => h.name));
    const ready = rest.filter((h) => h.jump === undefined || !waiting.has(h.jump));
    if (!ready.length) return [...ordered, ...rest];
    ordered.push(...ready);
    rest = rest.filter((h) => !ready.includes(h));
  }
  return ordered;
}
