import { LabError } from './errors.ts';
import { run, tryRun } from './exec.ts';
import { type HostSpec, labNames } from './topology.ts';

/**
 * A host's site link: its first NIC (imgs's outside network, a cache's or server's iCBD-Net),
 * shaped at the lab's switch with the kernel's token bucket in both directions: tbf on the
 * switch port (traffic to the host) and tbf on an ifb that the port's ingress is redirected to
 * (traffic from it). The host sees a plain link it cannot change. This kernel has no netem:
 * rates only, no delay or loss.
 */

const UNITS: Record<string, number> = { kbit: 1e3, mbit: 1e6, gbit: 1e9 };

/** "100mbit" → 100e6 bits/s; "off" → null. Anything else is refused. */
export function parseRate(text: string): number | null {
  if (text === 'off') return null;
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/.exec(text.trim().toLowerCase());
  const bps = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(bps >= 64e3 && bps <= 10e9)) {
    throw new LabError(`bad link rate "${text}"`, 'give a rate from 64kbit to 10gbit, like 50mbit, 100mbit or 1gbit, or off');
  }
  return bps;
}

export function formatRate(bps: number | null | undefined): string {
  if (!bps) return 'unshaped';
  for (const [unit, k] of [['gbit', 1e9], ['mbit', 1e6]] as const) if (bps >= k && bps % (k / 1000) === 0) return `${+(bps / k).toFixed(3)}${unit}`;
  return `${bps / 1e3}kbit`;
}

/** `cache01=100mbit,imgs=1gbit` → [[cache01, 100e6], …] (host names are checked by the caller). */
export function parseLinkList(text: string): [string, number | null][] {
  return text
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const [host, rate, extra] = item.split('=');
      if (!host || rate === undefined || extra !== undefined) throw new LabError(`bad link "${item}"`, 'write HOST=RATE[,HOST=RATE…], like cache01=100mbit');
      return [host, parseRate(rate)];
    });
}

const tc = (ns: string, args: string[]) => run('tc', ['-n', ns, ...args]);

// a bucket of 20 ms at the rate (never below 32 KiB): TCP sees a steady rate, and a burst
// smaller than a few frames would throttle below the rate asked
const burst = (bps: number) => `${Math.max(32 * 1024, Math.round(bps / 8 / 50))}b`;

/** Sets (or, with null, removes) the rate of `host`'s link, both directions. */
export async function setLinkRate(slot: number, host: HostSpec, bps: number | null): Promise<void> {
  const n = labNames(slot);
  const ns = n.switchNs;
  const port = n.port(host.name, host.nics[0]!.ifname);
  const ifb = `${host.name}-in`;
  await tryRun('tc', ['-n', ns, 'qdisc', 'del', 'dev', port, 'root']);
  await tryRun('tc', ['-n', ns, 'qdisc', 'del', 'dev', port, 'ingress']);
  await tryRun('ip', ['-n', ns, 'link', 'del', ifb]);
  if (bps === null) return;
  const tbf = ['tbf', 'rate', `${bps}bit`, 'burst', burst(bps), 'latency', '50ms'];
  await tc(ns, ['qdisc', 'add', 'dev', port, 'root', ...tbf]);
  await run('ip', ['-n', ns, 'link', 'add', ifb, 'type', 'ifb']);
  await run('ip', ['-n', ns, 'link', 'set', ifb, 'up']);
  await tc(ns, ['qdisc', 'add', 'dev', ifb, 'root', ...tbf]);
  await tc(ns, ['qdisc', 'add', 'dev', port, 'handle', 'ffff:', 'ingress']);
  await tc(ns, ['filter', 'add', 'dev', port, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb]);
}
