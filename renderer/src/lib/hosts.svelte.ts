import type { Host } from '../../../shared/inventory.ts';
import { api } from './api.ts';

/**
 * The inventory as every view sees it. The core announces each change (from this window, the
 * CLI or another window) with hosts.changed, so views never reload the list after an action.
 */
class HostList {
  // Raw: the list is replaced whole, never mutated, and plain objects (not proxies) can cross
  // Electron's IPC when a view sends a host back to the core.
  hosts = $state.raw<Host[]>([]);
  loaded = $state(false);
  error = $state<unknown>();
  // A list reply that left the core before a hosts.changed event is older than that event.
  #changes = 0;

  /** Follows hosts.changed until the returned function is called. */
  follow(): () => void {
    return api.on('hosts.changed', ({ hosts }) => {
      this.#changes++;
      this.#show(hosts);
    });
  }

  async refresh(): Promise<void> {
    const changes = this.#changes;
    try {
      const hosts = await api.invoke('hosts.list', {});
      if (changes === this.#changes) this.#show(hosts);
    } catch (err) {
      this.error = err;
    }
  }

  #show(hosts: Host[]): void {
    this.hosts = hosts;
    this.loaded = true;
    this.error = undefined;
  }
}

export const hostList = new HostList();
