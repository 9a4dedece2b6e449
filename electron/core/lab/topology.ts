import type { Role } from '../../../shared/inventory.ts';
import { LabError } from './errors.ts';

/** One NIC of a host: a veth whose host end is `ifname` and whose other end is a port of `net`'s bridge. */
export interface Nic {
  ifname: string;
  net: string;
  address: string;
  prefix: number;
}

export interface HostSpec {
  name: string;
  role: Role;
  nics: Nic[];
  /** The address the operator uses: imgs's outside NIC, or the iCBD-Net address behind imgs. */
  address: string;
  jump?: string;
  /**
   * imgs's default route (the guide's NAT names the outside interface by it): the site's router,
   * which the lab does not have. Nothing answers at that address, so nothing routed to it leaves.
   */
  gateway?: string;
}

export interface NetSpec {
  /** Bridge name inside the switch namespace. */
  name: string;
  cidr: string;
  /** What the guide calls it (NICs by Role table). */
  guideName: string;
}

export interface Topology {
  slot: number;
  hosts: HostSpec[];
  nets: NetSpec[];
  /** The runner's own address on the outside network (the only lab address routed on the machine). */
  runnerAddress: string;
  outsideCidr: string;
}

export const MAX_CACHES = 9;
export const MAX_SLOTS = 10;

// Everything lives in 10.213.0.0/16, which exists only inside the lab's namespaces. Internal
// networks can repeat between concurrent labs (each has its own switch namespace); only the
// outside network touches the machine's own routing table, so it is the one that carries the slot.
const INTERNAL = '10.213.2';
const ADMIN = '10.213.3';
const cacheNet = (i: number) => `10.213.${100 + i}`;
const outside = (slot: number) => `10.213.${200 + slot}`;

const cacheName = (i: number) => `cache${String(i).padStart(2, '0')}`;

/** The guide's topology (Annex 2, "NICs by Role") for `caches` cache nodes in lab slot `slot`. */
export function topology(slot: number, caches: number): Topology {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new LabError(`bad lab slot ${slot}`, `use 0..${MAX_SLOTS - 1}`);
  if (!Number.isInteger(caches) || caches < 1 || caches > MAX_CACHES) {
    throw new LabError(`bad number of caches: ${caches}`, `use --caches 1..${MAX_CACHES}`);
  }
  const out = outside(slot);
  const nets: NetSpec[] = [
    { name: 'outside', cidr: `${out}.0/24`, guideName: 'DMZ-PRIV-DI' },
    { name: 'icbd', cidr: `${INTERNAL}.0/24`, guideName: 'iCBD-Net' },
    { name: 'adm', cidr: `${ADMIN}.0/24`, guideName: 'iCBD-Adm-Net' },
  ];
  const hosts: HostSpec[] = [
    {
      name: 'imgs',
      role: 'imgs',
      address: `${out}.10`,
      gateway: `${out}.254`,
      nics: [
        { ifname: 'eth0', net: 'outside', address: `${out}.10`, prefix: 24 },
        { ifname: 'eth1', net: 'icbd', address: `${INTERNAL}.251`, prefix: 24 },
        { ifname: 'eth2', net: 'adm', address: `${ADMIN}.1`, prefix: 24 },
      ],
    },
    { name: 'rw', role: 'rw', address: `${INTERNAL}.11`, jump: 'imgs', nics: [{ ifname: 'eth0', net: 'icbd', address: `${INTERNAL}.11`, prefix: 24 }] },
    { name: 'home', role: 'home', address: `${INTERNAL}.12`, jump: 'imgs', nics: [{ ifname: 'eth0', net: 'icbd', address: `${INTERNAL}.12`, prefix: 24 }] },
  ];
  for (let i = 1; i <= caches; i++) {
    const net = `c${String(i).padStart(2, '0')}`;
    nets.push({ name: net, cidr: `${cacheNet(i)}.0/24`, guideName: `iCBD-Cache${String(i).padStart(2, '0')}-Net` });
    hosts.push({
      name: cacheName(i),
      role: 'cache',
      address: `${INTERNAL}.${100 + i}`,
      jump: 'imgs',
      nics: [
        { ifname: 'eth0', net: 'icbd', address: `${INTERNAL}.${100 + i}`, prefix: 24 },
        { ifname: 'eth1', net, address: `${cacheNet(i)}.251`, prefix: 24 },
      ],
    });
  }
  return { slot, hosts, nets, runnerAddress: `${out}.1`, outsideCidr: `${out}.0/24` };
}

/**
 * The site mirror (mirror.ts): apt-cacher-ng on the runner's outside address, and a relay on
 * imgs's iCBD-Net address at the port of the guide's squid service (open in its internal zone).
 */
export const MIRROR_PORT = 3143;
export const RELAY_PORT = 3128;

/** The proxy a host's apt uses: the mirror itself for imgs, imgs's relay for every host behind it. */
export function mirrorProxy(topo: Topology, host: Pick<HostSpec, 'role'>): string {
  return host.role === 'imgs' ? `http://${topo.runnerAddress}:${MIRROR_PORT}/` : `http://${imgsInternal(topo)}:${RELAY_PORT}/`;
}

export const imgsInternal = (topo: Topology) => topo.hosts.find((h) => h.role === 'imgs')!.nics.find((n) => n.net === 'icbd')!.address;

export const APT_PROXY_FILE = 'etc/apt/apt.conf.d/01icbd-lab-mirror';

export const aptProxyConf = (proxy: string) => `// The lab's site mirror (see the README's lab section)\nAcquire::http::Proxy "${proxy}";\n`;

/** Kernel and cgroup names; all start with `icbdlab-<slot>` so cleanup can never touch anything else. */
export function labNames(slot: number) {
  const p = `icbdlab-${slot}`;
  return {
    prefix: p,
    switchNs: `${p}-sw`,
    hostNs: (host: string) => `${p}-${host}`,
    /** The runner's veth in the machine's own namespace. */
    runnerIf: p,
    /** A host NIC's port on the switch (unique inside the switch namespace only). */
    port: (host: string, ifname: string) => `${host}-${ifname}`,
    cgroup: p,
  };
}

/** Returns the spec of `name`, refusing anything that is not one of the lab's own hosts. */
export function hostSpec(topo: Topology, name: string): HostSpec {
  const h = topo.hosts.find((x) => x.name === name);
  if (!h) throw new LabError(`no host "${name}" in the lab`, `use one of: ${topo.hosts.map((x) => x.name).join(', ')}`);
  return h;
}
