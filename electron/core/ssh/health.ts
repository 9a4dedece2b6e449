import { toWire } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { keyTypeLabel, knownHostName, type HealthProblem, type HostHealth } from '../../../shared/ssh.ts';
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

/** What connect.ts puts in the detail of a host key it did not accept. */
interface HostKeyDetail {
  reason: 'host-key-unknown' | 'host-key-rejected' | 'host-key-changed' | 'host-key-revoked';
  hop: string;
  address: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** changed: the keys known for that address. */
  known?: { file: string; line: number; keyType: string; fingerprint: string }[];
  /** revoked: where the @revoked line is. */
  file?: string;
  line?: number;
}

const KEY_REASONS = { 'host-key-unknown': 'unknown', 'host-key-rejected': 'unknown', 'host-key-changed': 'changed', 'host-key-revoked': 'revoked' } as const;

function hostKeyDetail(err: unknown): HostKeyDetail | undefined {
  const detail = (err as { detail?: unknown } | null)?.detail as Partial<HostKeyDetail> | undefined;
  return detail && typeof detail.reason === 'string' && detail.reason in KEY_REASONS ? (detail as HostKeyDetail) : undefined;
}

/**
 * A failed probe as a state and words: a host whose key (or a jump host's) is not accepted is not
 * down, it answers and is not trusted; the words say what to check and what to run. `appKnownHosts`
 * is the app's own known_hosts, whose keys `icbd known-hosts forget` can remove.
 */
export function probeFailure(host: string, err: unknown, appKnownHosts: string): { state: 'down' | 'untrusted'; lastError: HealthProblem } {
  const wire = toWire(err);
  const key = hostKeyDetail(err);
  if (!key) return { state: 'down', lastError: { code: wire.code, message: wire.message } };

  const state = KEY_REASONS[key.reason];
  const where = `${key.hop} (${key.address}:${key.port})`;
  const who = key.hop === host ? where : `${where}, the jump host ${host} is reached through,`;
  const presented = `${keyTypeLabel(key.keyType)} ${key.fingerprint}`;
  const onConsole = `\`ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeLabel(key.keyType).toLowerCase()}_key.pub\` on ${key.hop}'s console`;
  let message: string;
  if (state === 'unknown') {
    message =
      `${who} answers, but its host key ${presented} is not accepted yet, so nothing logs in to it. ` +
      `Compare that fingerprint with ${onConsole}; if it matches, accept it: open a terminal on ${key.hop}, or run \`icbd exec ${key.hop} -- true\` and answer yes.`;
  } else if (state === 'changed') {
    const old = key.known?.[0];
    const forget =
      !old || old.file === appKnownHosts
        ? `\`icbd known-hosts forget ${key.address} ${key.port}\` (or Forget in the Hosts view's host keys)`
        : `\`ssh-keygen -R '${knownHostName(key.address, key.port)}' -f '${old.file}'\` (that file is yours; the app does not edit it)`;
    message =
      `SECURITY: the host key of ${who} has CHANGED: ${old ? `${keyTypeLabel(old.keyType)} ${old.fingerprint} is known (${old.file} line ${old.line}), ` : ''}${presented} was presented. Nothing was sent to it. ` +
      `Someone may be intercepting the connection, or the host was reinstalled. Do not trust it before checking: compare ${key.fingerprint} with ${onConsole}. ` +
      `Only if they match, remove the old key with ${forget}, then accept the new one at the next connection.`;
  } else {
    message =
      `SECURITY: ${who} presents a revoked host key, ${presented}${key.file ? ` (@revoked in ${key.file} line ${key.line})` : ''}. Nothing was sent to it. ` +
      `Do not use it: give ${key.hop} a new host key on its console, then accept the new key at the next connection.`;
  }
  return {
    state: 'untrusted',
    lastError: { code: wire.code, message, hostKey: { state, hop: key.hop, address: key.address, port: key.port, keyType: key.keyType, fingerprint: key.fingerprint } },
  };
}

/**
 * Up/down and latency of every inventory host (the seed's KeepAlive). A probe is a round trip on
 * the host's pooled connection, so a healthy host costs one tiny packet per interval, and a host
 * that went away is noticed by the connection's keepalive even between probes. A host that is
 * down or untrusted is retried with exponential backoff; that retry is also what reconnects it,
 * and a connection the operator opens (accepting a key, say) is probed at once.
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
      // A dropped connection takes an up host down; the late close of an old connection must not
      // replace what a newer probe found (an untrusted key says more than "closed").
      if (e.state === 'down') {
        if (slot.health.state === 'up') this.#failed(slot, { state: 'down', lastError: { code: 'UNAVAILABLE', message: e.error ?? 'The connection was closed.' } });
      } else if (slot.health.state !== 'up') void this.#probe(slot);
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
      this.#failed(slot, probeFailure(slot.health.host, err, this.pool.knownHosts.appFile));
    } finally {
      slot.probing = false;
    }
  }

  #failed(slot: Slot, failure: ReturnType<typeof probeFailure>): void {
    slot.failures++;
    slot.nextAt = Date.now() + Math.min(this.#o.maxBackoffMs, this.#o.intervalMs * 2 ** (slot.failures - 1));
    this.#set(slot, { ...failure, latencyMs: null });
  }

  #set(slot: Slot, next: Pick<HostHealth, 'state' | 'latencyMs' | 'lastError'>): void {
    const now = Date.now();
    const changed = next.state !== slot.health.state;
    slot.health = { ...slot.health, ...next, checkedAt: now, since: changed ? now : slot.health.since };
    // Every probe is reported, not only changes of state: the latency is part of what is shown.
    this.#o.onChange(slot.health);
  }
}
