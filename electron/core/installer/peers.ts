import { isIP } from 'node:net';
import { parsePublicKey } from '../../../shared/etc-files.ts';
import type { Host } from '../../../shared/inventory.ts';
import { knownHostName } from '../../../shared/ssh.ts';
import type { Platform } from '../../../shared/roles.ts';
import type { Remote } from '../remote/host.ts';
import type { Peer } from './step.ts';
import { KEY } from './steps/ssh.ts';

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key.pub';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

// Both keys in one round trip; a missing root key is an empty section, not an error.
const READ = `cat ${KEY}.pub 2>/dev/null; echo icbd:host-key; cat ${HOST_KEY}`;

/**
 * The address the other nodes reach a node at: the platform's own for imgs, rw and home (the
 * inventory may know imgs by its outside address, which the nodes behind it need not route), the
 * inventory's for a cache.
 */
function platformAddress(h: Host, p: Platform): string | undefined {
  const a = h.role === 'imgs' ? p.imgs : h.role === 'rw' ? p.data : h.role === 'home' ? p.home : h.address;
  return IPV4.test(a) ? a : undefined;
}

export interface NodeKeys {
  publicKey?: string;
  hostKey?: string;
  /** Why they could not be read. */
  problem?: string;
}

/** A node's root key and host key, read over the console's verified connection in one round trip. */
export async function readKeys(remote: Remote): Promise<NodeKeys> {
  let out: string;
  try {
    const r = await remote.run(['sh', '-c', READ], { timeoutMs: 30_000 });
    if (r.code !== 0) return { problem: r.stderr.trim().split('\n').at(-1) || `exit code ${r.code}` };
    out = r.stdout;
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
  const [own = '', host = ''] = out.split('icbd:host-key\n');
  const publicKey = parsePublicKey(own)?.line;
  const hostKey = parsePublicKey(host);
  return { ...(publicKey && { publicKey }), ...(hostKey && { hostKey: `${hostKey.type} ${hostKey.blob}` }) };
}

/** Where direct replication reaches a node when that is not its inventory address (replication settings). */
export type ReplicationAddresses = (host: string) => string | undefined;

/**
 * `h` as another node sees it. Its known_hosts names include the name direct replication's ssh
 * looks up (replication/pipeline.ts: the replication address, else the inventory's, on the
 * inventory's port), so the one line the table writes is also the one a transfer needs.
 */
export function peerOf(h: Host, platform: Platform, keys: NodeKeys, replicationAddress?: string): Peer {
  const address = platformAddress(h, platform);
  const names = [...new Set([h.name, knownHostName(h.address, h.port), ...(address ? [address] : []), ...(replicationAddress ? [knownHostName(replicationAddress, h.port)] : [])])];
  // sshd matches from= against the client's IP (UseDNS is off by default): a host name there would never match.
  const sources = [...new Set([address, h.address, replicationAddress].filter((a): a is string => a !== undefined && isIP(a) !== 0))];
  return { name: h.name, names, sources, ...(address && { address }), ...keys };
}

/** Every inventory host but `self`, each read once, in parallel. */
export async function readPeers(remoteOf: (host: string) => Remote, hosts: readonly Host[], self: string, platform: Platform, replication: ReplicationAddresses): Promise<Peer[]> {
  return Promise.all(hosts.filter((h) => h.name !== self).map(async (h) => peerOf(h, platform, await readKeys(remoteOf(h.name)), replication(h.name))));
}
