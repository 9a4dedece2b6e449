import type { InventoryStore } from '../inventory/store.ts';
import type { Handlers } from './types.ts';

export function hostHandlers(inventory: InventoryStore): Handlers<'hosts.list' | 'hosts.add' | 'hosts.update' | 'hosts.remove'> {
  return {
    'hosts.list': () => inventory.list(),
    'hosts.add': (host) => inventory.add(host),
    'hosts.update': ({ name, host }) => inventory.update(name, host),
    'hosts.remove': async ({ name }) => ({ removed: await inventory.remove(name) }),
  };
}
