import type { HostHealth } from '../../../shared/ssh.ts';
import { api } from './api.ts';

/**
 * Up/down and latency of every inventory host, as the core's health monitor last probed them. The
 * monitor reports every probe with health.changed, so this only loads once and then follows.
 */
class Health {
  byHost = $state.raw<Record<string, HostHealth>>({});
  checking = $state(false);
  error = $state<unknown>();

  follow(): () => void {
    return api.on('health.changed', (health) => this.#show([health]));
  }

  async refresh(): Promise<void> {
    try {
      this.#show(await api.invoke('health.list', {}));
      this.error = undefined;
    } catch (err) {
      this.error = err;
    }
  }

  /** Probes every host now, whatever the monitor's schedule says. */
  async checkNow(): Promise<void> {
    this.checking = true;
    this.error = undefined;
    try {
      this.#show(await api.invoke('health.check', {}));
    } catch (err) {
      this.error = err;
    } finally {
      this.checking = false;
    }
  }

  #show(list: HostHealth[]): void {
    const next = { ...this.byHost };
    // A probe answered out of order must not replace a newer one.
    for (const h of list) {
      const known = next[h.host];
      if (!known || (h.checkedAt ?? 0) >= (known.checkedAt ?? 0)) next[h.host] = h;
    }
    this.byHost = next;
  }
}

export const health = new Health();
