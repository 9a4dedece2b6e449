/**
 * What the installer knows about a host: everything one gather (gather.ts) reads, as plain JSON
 * data so that plans are pure functions of it and a captured state can be replayed in tests.
 */

export interface BlockDevice {
  name: string;
  kname: string;
  /** The parent's kernel name: partitions and holders point at their disk. */
  pkname: string;
  type: string;
  size: number;
  ro: boolean;
  fstype: string;
  label: string;
  uuid: string;
  /** Empty on util-linux without the PTTYPE column (CentOS 7); mkfs.btrfs without -f still refuses then. */
  pttype: string;
  mountpoint: string;
  majMin: string;
  /** Device nodes under /dev for it: /dev/loop3 and, in the lab, the /dev/vdb bound to it. */
  nodes: string[];
}

export interface Mount {
  target: string;
  source: string;
  fstype: string;
  fsroot: string;
  options: string;
  uuid: string;
}

export interface PathInfo {
  kind: string;
  dev: string;
  ino: string;
  fstype: string;
}

export interface UnitState {
  loadState: string;
  activeState: string;
  unitFileState: string;
  /** "no" once systemd tried to start it and a Condition…= was not met; empty before any try. */
  conditionResult?: string;
  /** An active socket starts it on demand (Debian's libvirtd, which also stops itself when idle). */
  socketActive?: boolean;
}

export interface FirewallState {
  running: boolean;
  available: string[];
  zoneServices: string[];
  masquerade: boolean;
  directRules: string[];
  zoneInterfaces: string[];
  /** firewall-cmd --version: from 0.9 on, firewalld filters forwarded traffic itself, by policies. */
  version: string;
  /** The zone the outside interface is in by name ('' when only by being the default zone), and the default zone. */
  extZone: string;
  defaultZone: string;
  /** The installer's forwarding policy (icbd-nat) as firewalld has it; absent when there is none. */
  policy?: { target: string; ingress: string[]; egress: string[] };
}

export interface HostState {
  uid: number;
  osRelease: string;
  kernel: string;
  /** Host clock minus the operator's, in seconds (measured around the gather). */
  clockSkew: number;
  commands: string[];
  btrfsInKernel: boolean;
  findmntVerify: boolean;
  /** The kernel can serve NFS (nfsd) / mount nfs4: a container's shared kernel may not. */
  nfsd: boolean;
  nfsClient: boolean;
  devices: BlockDevice[];
  mounts: Mount[];
  /** Contents of the files read; a missing file has no key. */
  files: Record<string, string>;
  /** Paths that exist. */
  paths: Record<string, PathInfo>;
  /** Entries of the directories that are copied before being mounted over (/home). */
  dirEntries: Record<string, string[]>;
  units: Record<string, UnitState>;
  /** Installed packages among those asked for. */
  packages: string[];
  /**
   * Whether the package manager's first index answered (apt hosts only: `apt-get update` would
   * only warn, and the install would fail half-way); `detail` is its error when not.
   */
  packageSource?: { reachable: boolean; detail: string };
  ipForward: string;
  /** False where /proc/sys is read-only (a container): kernel parameters cannot be set live. */
  procSysWritable: boolean;
  /** getenforce's answer where SELinux exists. */
  selinux?: string;
  firewall?: FirewallState;
  addresses: { ifname: string; address: string }[];
  defaultRouteIf?: string;
}

export const has = (s: HostState, cmd: string) => s.commands.includes(cmd);

/** `lsblk -P` / `findmnt -P` lines: KEY="value" pairs, with \xHH escapes inside values. */
export function parsePairs(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const row: Record<string, string> = {};
      for (const m of line.matchAll(/([A-Z0-9_:%-]+)="((?:[^"\\]|\\.)*)"/g)) {
        row[m[1]!.replace(':', '_')] = m[2]!.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      }
      return row;
    });
}

/** lsblk rows joined with the /dev nodes found for each major:minor (`stat -c '%n %t %T'` of each block node, hex). */
/** `blkid -p -o export` blocks (DEVNAME=…, TYPE=…, LABEL=…, UUID=…, PTTYPE=…) by device node. */
export function parseProbes(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const block of text.split(/\n\s*\n/)) {
    const kv = Object.fromEntries(block.split('\n').flatMap((l) => (l.includes('=') ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])));
    if (kv.DEVNAME) out.set(kv.DEVNAME, kv);
  }
  return out;
}

/** lsblk's rows, with what a direct probe of the device found where lsblk (without udev) knew nothing. */
export function parseDevices(lsblk: string, devnodes: string, blkid = ''): BlockDevice[] {
  const probes = parseProbes(blkid);
  const nodes = new Map<string, string[]>();
  for (const line of devnodes.split('\n')) {
    const [path, maj, min] = line.trim().split(/\s+/);
    if (!path || !maj || !min) continue;
    const key = `${parseInt(maj, 16)}:${parseInt(min, 16)}`;
    nodes.set(key, [...(nodes.get(key) ?? []), path]);
  }
  return parsePairs(lsblk).map((r) => {
    const majMin = r.MAJ_MIN ?? '';
    const found = (nodes.get(majMin) ?? []).map((n) => probes.get(n)).find((p) => p !== undefined) ?? {};
    return {
      name: r.NAME ?? '',
      kname: r.KNAME ?? r.NAME ?? '',
      pkname: r.PKNAME ?? '',
      type: r.TYPE ?? '',
      size: Number(r.SIZE ?? 0),
      ro: r.RO === '1',
      fstype: r.FSTYPE || found.TYPE || '',
      label: r.LABEL || found.LABEL || '',
      uuid: r.UUID || found.UUID || '',
      pttype: r.PTTYPE || found.PTTYPE || '',
      mountpoint: r.MOUNTPOINT ?? '',
      majMin,
      nodes: (nodes.get(majMin) ?? []).sort(),
    };
  });
}

/**
 * lsblk names a device's mount point by matching its major:minor, which a btrfs mount never has
 * (it gets an anonymous device) and which it cannot read without udev: a mount whose source is
 * one of the device's nodes counts too.
 */
export function withMounts(devices: BlockDevice[], mounts: readonly Mount[]): BlockDevice[] {
  return devices.map((d) => (d.mountpoint ? d : { ...d, mountpoint: mounts.find((m) => d.nodes.includes(m.source))?.target ?? '' }));
}

export function parseMounts(findmnt: string): Mount[] {
  return parsePairs(findmnt).map((r) => ({
    target: r.TARGET ?? '',
    // older findmnt appends [fsroot] to SOURCE; FSROOT has it on its own
    source: (r.SOURCE ?? '').replace(/\[[^\]]*\]$/, ''),
    fstype: r.FSTYPE ?? '',
    fsroot: r.FSROOT ?? '/',
    options: r.OPTIONS ?? '',
    uuid: r.UUID ?? '',
  }));
}

/** The mount currently visible at `target` (the last one mounted there). */
export function mountAt(s: HostState, target: string): Mount | undefined {
  return s.mounts.findLast((m) => m.target === target);
}

/** `stat -c '%n|%F|%d|%i'` and `stat -f -c '%n|%T'` outputs. */
export function parsePaths(stat: string, statfs: string): Record<string, PathInfo> {
  const fstypes = new Map(
    statfs
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const i = l.lastIndexOf('|');
        return [l.slice(0, i), l.slice(i + 1)] as const;
      }),
  );
  const out: Record<string, PathInfo> = {};
  for (const line of stat.split('\n')) {
    const parts = line.split('|');
    if (parts.length < 4) continue;
    const [ino, dev, kind] = [parts.pop()!, parts.pop()!, parts.pop()!];
    const path = parts.join('|');
    out[path] = { kind, dev, ino, fstype: fstypes.get(path) ?? '' };
  }
  return out;
}

/** Both paths exist and are one inode: a bind mount of `a` is in place on `b`. */
export function sameFile(s: HostState, a: string, b: string): boolean {
  const [x, y] = [s.paths[a], s.paths[b]];
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}

/** A btrfs subvolume's root directory is always inode 256. */
export function isSubvolume(s: HostState, path: string): boolean {
  const p = s.paths[path];
  return p !== undefined && p.fstype === 'btrfs' && p.ino === '256' && p.kind === 'directory';
}

/**
 * `systemctl show -p Id,LoadState,ActiveState,UnitFileState u1 u2 …`: one blank-line separated
 * block per unit asked, in order. Matched by position, since an alias answers with the real Id.
 */
export function parseUnits(text: string, asked: readonly string[]): Record<string, UnitState> {
  const blocks = text.split(/\n\s*\n/).filter((b) => b.includes('LoadState='));
  const out: Record<string, UnitState> = {};
  if (blocks.length !== asked.length) return out;
  blocks.forEach((block, i) => {
    const kv = new Map(
      block
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    // ConditionResult reads "no" until the conditions were checked once, i.e. until a start was tried
    const condition = (kv.get('ConditionTimestampMonotonic') ?? '0') !== '0' ? kv.get('ConditionResult') : undefined;
    out[asked[i]!] = {
      loadState: kv.get('LoadState') ?? '',
      activeState: kv.get('ActiveState') ?? '',
      unitFileState: kv.get('UnitFileState') ?? '',
      ...(condition ? { conditionResult: condition } : {}),
    };
  });
  return out;
}

/** `UNIT STATE` lines of `systemctl is-enabled`, which knows SysV rc links, over UnitFileState. */
export function withEnabled(units: Record<string, UnitState>, isEnabled: string): Record<string, UnitState> {
  const out = { ...units };
  for (const line of isEnabled.split('\n')) {
    const [unit, state] = line.trim().split(/\s+/);
    const u = unit ? out[unit] : undefined;
    if (u && state) out[unit!] = { ...u, unitFileState: state };
  }
  return out;
}

/** `UNIT SOCKET STATE` lines: the sockets that trigger each unit, and whether they listen. */
export function withSockets(units: Record<string, UnitState>, triggers: string): Record<string, UnitState> {
  const out = { ...units };
  for (const line of triggers.split('\n')) {
    const [unit, socket, state] = line.trim().split(/\s+/);
    const u = unit ? out[unit] : undefined;
    if (u && socket?.endsWith('.socket') && state === 'active') out[unit!] = { ...u, socketActive: true };
  }
  return out;
}

/** `ip -o -4 addr show`: "2: eth0    inet 10.0.2.251/24 brd … scope global eth0". */
export function parseAddresses(text: string): { ifname: string; address: string }[] {
  return [...text.matchAll(/^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//gm)].map((m) => ({ ifname: m[1]!.replace(/@.*$/, ''), address: m[2]! }));
}
