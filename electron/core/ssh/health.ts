import type { Host } from '../../../shared/inventory.ts';
import type { HostHealth } from '../../../shared/ssh.ts';
import type { SshPool } from './pool.ts';

export interface HealthOptions {
  getHosts(): Promise<Host[]>;
  onChange(h: HostHealth): void;
  /** Between probes of a host that is up (default 10 s). */
  intervalMs?: number;
  /** Probes of a host that is down back off from intervalMs up to this (default 60 s). */
  maxBackoffMs?: number;
  pingTimeoutMs?: number;
}

interface Slot {
  health: HostHealth;
  failures: number;
  nextAt: number;
  probing: boolean;
}

/**
 * Up/down and latency of every inventory host (the seed's KeepAlive). A probe is a round trip on
 * the host's pooled connection, so a healthy host costs one tiny packet per interval, and a host
 * that went away is noticed by the connection's keepalive even between probes. A host that is
 * down is retried with exponential backoff; that retry is also what reconnects it.
 */
export class HealthMonitor {
  readonly #slots = new Map<string, Slot>();
  readonly #o: Required<HealthOptions>;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly pool: SshPool,
    o: HealthOptions,
  ) {
    this.#o = { intervalMs: 10_000, maxBackoffMs: 60_000, pingTimeoutMs: 5_000, ...o };
  }

  start(): void {
    if (this.#timer) return;
    this.#unsubscribe = this.pool.onConnectionState((e) => {
      const slot = this.#slots.get(e.host);
      if (!slot) return;
      if (e.state === 'down') this.#failed(slot, e.error ?? 'The connection was closed.');
    });
    const tick = () => {
      void this.#tick().finally(() => {
        if (this.#timer) this.#timer = setTimeout(tick, Math.min(1000, this.#o.intervalMs));
      });
    };
    this.#timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
  }

  snapshot(): HostHealth[] {
    return [...this.#slots.values()].map((s) => s.health);
  }

  /** Probes now (one host, or all), whatever the backoff says: the operator pressed "refresh". */
  async refresh(name?: string): Promise<void> {
    await this.#sync();
    await Promise.all([...this.#slots.values()].filter((s) => !name || s.health.host === name).map((s) => this.#probe(s)));
  }

  async #tick(): Promise<void> {
    await this.#sync();
    const now = Date.now();
    await Promise.all([...this.#slots.values()].filter((s) => !s.probing && now >= s.nextAt).map((s) => this.#probe(s)));
  }

  // Hosts added to the inventory start as unknown; removed ones are forgotten.
  async #sync(): Promise<void> {
    const hosts = await this.#o.getHosts().catch(() => undefined);
    if (!hosts) return;
    const names = new Set(hosts.map((h) => h.name));
    for (const name of this.#slots.keys()) if (!names.has(name)) this.#slots.delete(name);
    for (const name of names) {
      if (this.#slots.has(name)) continue;
      this.#slots.set(name, { health: { host: name, state: 'unknown', latencyMs: null, lastError: null, checkedAt: null, since: Date.now() }, failures: 0, nextAt: 0, probing: false });
    }
  }

  async #probe(slot: Slot): Promise<void> {
    if (slot.probing) return;
    slot.probing = true;
    try {
      const latency = await this.pool.ping(slot.health.host, { interactive: false, timeoutMs: this.#o.pingTimeoutMs });
      slot.failures = 0;
      slot.nextAt = Date.now() + this.#o.intervalMs;
      this.#set(slot, { state: 'up', latencyMs: Math.round(latency * 10) / 10, lastError: null });
    } catch (err) {
      this.#failed(slot, (err as Error).message);
    } finally {
      slot.probing = false;
    }
  }

  #failed(slot: Slot, error: string): void {
    slot.failures++;
    slot.nextAt = Date.now() + Math.min(this.#o.maxBackoffMs, this.#o.intervalMs * 2 ** (slot.failures - 1));
    this.#set(slot, { state: 'down', latencyMs: null, lastError: error });
  }

  #set(slot: Slot, next: Pick<HostHealth, 'state' | 'latencyMs' | 'lastError'>): void {
    const now = Date.now();
    const changed = next.state !== slot.health.state;
    slot.health = { ...slot.health, ...next, checkedAt: now, since: changed ? now : slot.health.since };
    // Every probe is reported, not only changes of state: the latency is part of what is shown.
    this.#o.onChange(slot.health);
  }
}
