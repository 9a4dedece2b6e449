import fs from 'node:fs';
import { run, runRaw, tryRun } from './exec.ts';
import { type HostSpec, labNames, type Topology } from './topology.ts';

const ip = (args: string[]) => run('ip', args);

/** Namespace names of this slot that exist right now (the only ones `down` ever deletes). */
export async function labNamespaces(slot: number): Promise<string[]> {
  const { prefix } = labNames(slot);
  try {
    return fs.readdirSync('/run/netns').filter((n) => n.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
}

export const nsExists = (ns: string) => fs.existsSync(`/run/netns/${ns}`);

/**
 * The switch: one namespace holding a bridge per network of the guide. The runner joins only
 * the outside network (imgs's NIC 1), so everything on iCBD-Net is reachable through imgs alone.
 */
export async function createSwitch(topo: Topology): Promise<void> {
  const n = labNames(topo.slot);
  await ip(['netns', 'add', n.switchNs]);
  await ip(['-n', n.switchNs, 'link', 'set', 'lo', 'up']);
  for (const net of topo.nets) {
    await ip(['-n', n.switchNs, 'link', 'add', net.name, 'type', 'bridge']);
    await ip(['-n', n.switchNs, 'link', 'set', net.name, 'up']);
  }
  await ip(['link', 'add', n.runnerIf, 'type', 'veth', 'peer', 'name', 'runner', 'netns', n.switchNs]);
  await ip(['-n', n.switchNs, 'link', 'set', 'runner', 'master', 'outside', 'up']);
  await ip(['addr', 'add', `${topo.runnerAddress}/24`, 'dev', n.runnerIf]);
  await ip(['link', 'set', n.runnerIf, 'up']);
}

/** A host's own namespace, with one veth per NIC plugged into its network's bridge. */
export async function createHostNetwork(slot: number, host: HostSpec): Promise<void> {
  const n = labNames(slot);
  const ns = n.hostNs(host.name);
  await ip(['netns', 'add', ns]);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  for (const nic of host.nics) {
    const port = n.port(host.name, nic.ifname);
    await ip(['-n', n.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', nic.ifname, 'netns', ns]);
    await ip(['-n', n.switchNs, 'link', 'set', port, 'master', nic.net, 'up']);
    await ip(['-n', ns, 'addr', 'add', `${nic.address}/${nic.prefix}`, 'dev', nic.ifname]);
    await ip(['-n', ns, 'link', 'set', nic.ifname, 'up']);
  }
  if (host.gateway) await ip(['-n', ns, 'route', 'add', 'default', 'via', host.gateway]);
}

/** Pulls (or plugs back) every cable of a host at the switch; the host sees its links go down. */
export async function setHostLinks(slot: number, host: HostSpec, up: boolean): Promise<void> {
  const n = labNames(slot);
  for (const nic of host.nics) {
    await ip(['-n', n.switchNs, 'link', 'set', n.port(host.name, nic.ifname), up ? 'up' : 'down']);
  }
}

/** True when any of the host's switch ports is administratively down. */
export async function isCut(slot: number, host: HostSpec): Promise<boolean> {
  const n = labNames(slot);
  const r = await runRaw('ip', ['-n', n.switchNs, '-j', 'link', 'show']);
  if (r.code !== 0) return false;
  const links = JSON.parse(r.stdout) as { ifname: string; flags: string[] }[];
  return host.nics.some((nic) => {
    const l = links.find((x) => x.ifname === n.port(host.name, nic.ifname));
    return l !== undefined && !l.flags.includes('UP');
  });
}

/** Deletes the slot's namespaces (their veths go with them) and the runner's veth. */
export async function destroyNetwork(slot: number): Promise<void> {
  const n = labNames(slot);
  for (const ns of await labNamespaces(slot)) await tryRun('ip', ['netns', 'del', ns]);
  if (fs.existsSync(`/sys/class/net/${n.runnerIf}`)) await tryRun('ip', ['link', 'del', n.runnerIf]);
  // `ip netns add` turns /run/netns into a mount point; leave no empty one behind.
  try {
    if (fs.readdirSync('/run/netns').length === 0) {
      await tryRun('umount', ['/run/netns']);
      fs.rmdirSync('/run/netns');
    }
  } catch {
    // already gone, or another tool's namespaces live there
  }
}
