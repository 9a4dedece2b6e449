import type { FstabEntry } from './fstab.ts';
import type { Role } from './inventory.ts';

/**
 * The four roles of Annex 2 (installation guide) as data. Where the guide is wrong or silent the
 * decision is written next to the value; the guide's own text is quoted in test/unit/shared/roles.test.ts
 * so that every difference from it is deliberate and visible.
 */

/** The btrfs filesystem the installer makes is labelled, so a re-run finds it without a journal. */
export const FS_LABEL = 'icbd';
export const VAR_LIB = '/var/lib';
/** "btrfs subv create /mnt/btrfs/Lib" — the top-level subvolume mounted on /var/lib. */
export const LIB_SUBVOLUME = 'Lib';

export type Layout = { kind: 'subvolume'; path: string; seedFrom?: string } | { kind: 'dir'; path: string };

/**
 * How each fstab line of a role is made. A bind source that does not exist yet must exist before
 * the mount: `file` sources are copied from the target (/etc/hosts → /var/lib/icbd/mounts/etc/hosts,
 * so the host keeps its names), directories likewise when the target exists and are otherwise
 * created empty. On imgs the guide fills them from the iCBD backup (iCBD-imgs_*_bkk.tgz), which
 * this installer does not have; what it seeds is what the host had, which the backup overwrites.
 */
export type MountSpec =
  | { kind: 'subvol'; subvol: string; target: string }
  | { kind: 'bind'; source: string; target: string; recursive: boolean; file?: true }
  | { kind: 'nfs'; source: string; target: string };

export type Service = 'libvirtd' | 'dnsmasq' | 'tftp' | 'tgtd' | 'nfs-server' | 'httpd' | 'ntpd';

export interface ExportSpec {
  path: string;
  options: readonly string[];
}

export interface RoleSpec {
  role: Role;
  /** Subvolumes and plain directories, created in this order (parents first, as in the guide). */
  layout: readonly Layout[];
  /** The role's fstab lines except /var/lib (the Lib step's), in the guide's order. */
  mounts: readonly MountSpec[];
  /** /etc/hosts: the cache points the client-facing names at its own client subnet. */
  hosts: 'platform' | 'cache-split';
  sysctl: Readonly<Record<string, string>>;
  firewall?: FirewallSpec;
  services: readonly Service[];
  exports: readonly ExportSpec[];
}

export interface FirewallSpec {
  zone: string;
  services: readonly string[];
  masquerade: boolean;
  /** "Activate NAT": eth_ext / eth_int are the guide's placeholders, filled from the host's routes. */
  directRules: readonly (readonly string[])[];
}

const ICBD = '/var/lib/icbd';
const sv = (path: string, seedFrom?: string): Layout => (seedFrom ? { kind: 'subvolume', path, seedFrom } : { kind: 'subvolume', path });
const dir = (path: string): Layout => ({ kind: 'dir', path });
const rbind = (source: string, target: string): MountSpec => ({ kind: 'bind', source, target, recursive: true });
const fileBind = (source: string, target: string): MountSpec => ({ kind: 'bind', source, target, recursive: false, file: true });
const nfs = (source: string, target: string): MountSpec => ({ kind: 'nfs', source, target });

export const LIB_MOUNT: MountSpec = { kind: 'subvol', subvol: LIB_SUBVOLUME, target: VAR_LIB };

// imgs and cache share the guide's subvolume list word for word, except `mounts/livirt`, a typo
// for libvirt (nothing mounts it; the name only has to be right for whoever uses it later).
const IMAGE_LAYOUT: readonly Layout[] = [
  sv(ICBD),
  sv(`${ICBD}/.snap`),
  sv(`${ICBD}/shared-vms`),
  dir(`${ICBD}/mounts`),
  sv(`${ICBD}/mounts/vmware`),
  sv(`${ICBD}/mounts/libvirt`),
  sv(`${ICBD}/mounts/tftpboot`),
  sv(`${ICBD}/nfs_home`),
  sv(`${ICBD}/nfs_root`),
  sv(`${ICBD}/rw`),
  sv(`${ICBD}/iso`),
  sv(`${ICBD}/tmp`),
  sv(`${ICBD}/icbd`),
];

// The guide's imgs fstab, line for line; the cache's is the same plus its nfs4 lines. The VMware
// bind is kept although VMware itself is dropped (distro.ts): it is only a directory and keeps the
// layout the iCBD backup expects.
const IMAGE_MOUNTS: readonly MountSpec[] = [
  rbind(`${ICBD}/mounts/vmware`, '/var/lib/vmware'),
  rbind(`${ICBD}/mounts/etc/iscsi`, '/etc/iscsi'),
  rbind(`${ICBD}/mounts/etc/tgt`, '/etc/tgt'),
  rbind(`${ICBD}/mounts/etc/httpd`, '/etc/httpd'),
  rbind(`${ICBD}/mounts/etc/xinetd.d`, '/etc/xinetd.d'),
  rbind(`${ICBD}/mounts/tftpboot`, '/var/lib/tftpboot'),
  fileBind(`${ICBD}/mounts/etc/hosts`, '/etc/hosts'),
  fileBind(`${ICBD}/mounts/etc/exports`, '/etc/exports'),
  fileBind(`${ICBD}/mounts/etc/dnsmasq.conf`, '/etc/dnsmasq.conf'),
  rbind(`${ICBD}/icbd`, '/var/lib/tftpboot/icbd'),
  rbind(`${ICBD}/bin`, `${ICBD}/exports/bin`),
  rbind(`${ICBD}/include`, `${ICBD}/exports/include`),
  rbind(`${ICBD}/client`, `${ICBD}/exports/client`),
  rbind(`${ICBD}/icbd`, `${ICBD}/exports/icbd`),
  rbind(`${ICBD}/tmp`, `${ICBD}/exports/tmp`),
  rbind(`${ICBD}/iso`, `${ICBD}/exports/iso`),
  rbind(`${ICBD}/shared-vms`, `${ICBD}/exports/shared-vms`),
  rbind(`${ICBD}/nfs_home`, `${ICBD}/exports/nfs_home`),
  rbind(`${ICBD}/nfs_root`, `${ICBD}/exports/nfs_root`),
  rbind('/var/lib/libvirt/images', `${ICBD}/exports/images`),
];

/**
 * The cache's view of the platform's NFS: home.icbd.local is the home node, data.icbd.local the
 * rw node (it is the one that exports rw and macs.d); both names are written to /etc/hosts.
 * `macs.d` is the guide's spelling here; the rw node's `macsd` is read as the same directory.
 */
export const CACHE_NFS_MOUNTS: readonly MountSpec[] = [
  nfs('home.icbd.local:/nfs_home', `${ICBD}/nfs_home`),
  nfs('home.icbd.local:/nfs_root', `${ICBD}/nfs_root`),
  nfs('data.icbd.local:/rw', `${ICBD}/rw`),
  nfs('data.icbd.local:/rw', `${ICBD}/exports/rw`),
  nfs('data.icbd.local:/macs.d', '/etc/tgt/macs.d'),
];

// NFSv4 needs a pseudo-root (fsid=0) for the caches' `home.icbd.local:/nfs_home` to resolve to
// /var/lib/icbd/exports/nfs_home; crossmnt lets clients cross into the subvolumes and binds below
// it. The guide leaves /etc/exports to "a sample file in the install package", so only the lines
// the caches' nfs4 mounts need are ours; imgs and cache exports come from that package.
const EXPORT_ROOT: ExportSpec = { path: `${ICBD}/exports`, options: ['rw', 'fsid=0', 'crossmnt', 'no_subtree_check', 'no_root_squash'] };
const exported = (name: string): ExportSpec => ({ path: `${ICBD}/exports/${name}`, options: ['rw', 'no_subtree_check', 'no_root_squash'] });

// Annex 2 "Activate NAT" and "Firewall configuration" (zone internal, masquerading ticked).
const IMGS_FIREWALL: FirewallSpec = {
  zone: 'internal',
  services: [
    'dhcp', 'dhcpv6-client', 'dns', 'ftp', 'http', 'https', 'iscsi-target', 'mdns', 'mountd', 'nfs', 'ntp',
    'rpc-bind', 'rsyncd', 'samba', 'samba-client', 'squid', 'ssh', 'tftp', 'tftp-client',
  ],
  masquerade: true,
  directRules: [
    ['ipv4', 'nat', 'POSTROUTING', '0', '-o', 'eth_ext', '-j', 'MASQUERADE'],
    ['ipv4', 'filter', 'FORWARD', '0', '-i', 'eth_int', '-o', 'eth_ext', '-j', 'ACCEPT'],
    ['ipv4', 'filter', 'FORWARD', '0', '-i', 'eth_ext', '-o', 'eth_int', '-m', 'state', '--state', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
  ],
};

// Services: the guide's start/enable lists, with `tftd` read as tgtd (the cache lists tftp and
// tftd side by side, and imgs starts tgt but "enables" tftd), VMware dropped, and ntpd on every
// role because "Update date & time" is part of the first step every VM goes through.
export const ROLES: Readonly<Record<Role, RoleSpec>> = {
  imgs: {
    role: 'imgs',
    layout: IMAGE_LAYOUT,
    mounts: IMAGE_MOUNTS,
    hosts: 'platform',
    sysctl: { 'net.ipv4.ip_forward': '1' },
    firewall: IMGS_FIREWALL,
    services: ['libvirtd', 'dnsmasq', 'tftp', 'tgtd', 'nfs-server', 'httpd', 'ntpd'],
    exports: [],
  },
  rw: {
    role: 'rw',
    // "btrfs subv create /var/lib/Home" makes Lib/Home (Lib is mounted on /var/lib), yet the
    // guide mounts subvol=Home, which names a top-level subvolume that does not exist: the
    // mount says subvol=Lib/Home instead. /home's contents are copied in first, so mounting over
    // it hides nothing.
    layout: [
      sv('/var/lib/Home', '/home'),
      sv(ICBD),
      sv(`${ICBD}/.snap`),
      sv(`${ICBD}/nfs_home`),
      sv(`${ICBD}/nfs_root`),
      sv(`${ICBD}/nfs_rw`),
      sv(`${ICBD}/nfs_tmp`),
      sv(`${ICBD}/rw`),
      dir(`${ICBD}/mounts`),
      sv(`${ICBD}/mounts/tftpboot`),
    ],
    mounts: [
      { kind: 'subvol', subvol: `${LIB_SUBVOLUME}/Home`, target: '/home' },
      rbind(`${ICBD}/nfs_home`, `${ICBD}/exports/nfs_home`),
      rbind(`${ICBD}/nfs_root`, `${ICBD}/exports/nfs_root`),
      rbind(`${ICBD}/rw`, `${ICBD}/exports/rw`),
      fileBind(`${ICBD}/mounts/etc/hosts`, '/etc/hosts'),
      fileBind(`${ICBD}/mounts/etc/exports`, '/etc/exports'),
      rbind(`${ICBD}/mounts/tftpboot`, '/var/lib/tftpboot'),
      rbind(`${ICBD}/mounts/etc/tgt`, '/etc/tgt'),
      rbind(`${ICBD}/mounts/etc/httpd`, '/etc/httpd'),
      // The guide's `macsd` here and `macs.d` on the cache name one directory: the cache mounts
      // data.icbd.local:/macs.d, so the rw node must export it under that name.
      rbind(`${ICBD}/mounts/etc/tgt/macs.d`, `${ICBD}/exports/macs.d`),
    ],
    hosts: 'platform',
    sysctl: {},
    services: ['tgtd', 'nfs-server', 'ntpd'],
    exports: [EXPORT_ROOT, exported('nfs_home'), exported('nfs_root'), exported('rw'), exported('macs.d')],
  },
  home: {
    role: 'home',
    // `btrfs subv create /var/lib/icbd/exports/nfs_home` needs exports/ to exist; the guide
    // never makes it, so it is a plain directory here, like mounts/ on the other roles.
    layout: [
      sv(ICBD),
      sv(`${ICBD}/.snap`),
      sv(`${ICBD}/nfs_home`),
      sv(`${ICBD}/nfs_root`),
      dir(`${ICBD}/exports`),
      sv(`${ICBD}/exports/nfs_home`),
      sv(`${ICBD}/exports/nfs_root`),
    ],
    mounts: [fileBind(`${ICBD}/mounts/etc/exports`, '/etc/exports')],
    hosts: 'platform',
    sysctl: {},
    services: ['nfs-server', 'ntpd'],
    exports: [EXPORT_ROOT, exported('nfs_home'), exported('nfs_root')],
  },
  cache: {
    role: 'cache',
    layout: IMAGE_LAYOUT,
    mounts: [...IMAGE_MOUNTS, ...CACHE_NFS_MOUNTS],
    hosts: 'cache-split',
    sysctl: {},
    services: ['libvirtd', 'dnsmasq', 'tftp', 'tgtd', 'nfs-server', 'httpd', 'ntpd'],
    exports: [],
  },
};

/** Where the platform's names point; the guide's example is imgs at 10.0.2.251, cache clients 10.1.2.251. */
export interface Platform {
  imgs: string;
  home: string;
  /** The rw node, known to the caches as data.icbd.local. */
  data: string;
  /** The network allowed to mount the exports, e.g. 10.0.2.0/24 (iCBD-Net). */
  clients: string;
  /** The cache's own address on its client network (its second NIC); caches only. */
  cacheClient?: string;
}

const CLIENT_NAMES = ['boot.icbd.local', 'root.icbd.local', 'adm-s.icbd.local'];

/** The /etc/hosts lines of a role as [address, names]. */
export function hostsEntries(spec: RoleSpec, p: Platform): [string, string[]][] {
  const imgs: [string, string[]][] =
    spec.hosts === 'cache-split'
      ? [
          [p.imgs, ['imgs.icbd.local']],
          [requireCacheClient(p), CLIENT_NAMES],
        ]
      : [[p.imgs, ['imgs.icbd.local', ...CLIENT_NAMES]]];
  return [...imgs, [p.home, ['home.icbd.local']], [p.data, ['data.icbd.local']]];
}

function requireCacheClient(p: Platform): string {
  if (!p.cacheClient) throw new Error('A cache needs the address of its client network (cacheClient).');
  return p.cacheClient;
}

/**
 * The role's fstab entries for a filesystem UUID, with the distribution's paths (distro.ts maps
 * /etc/httpd to /etc/apache2 on Debian), Lib first. `nfs: false` leaves out the cache's nfs4 lines
 * for hosts with no NFS client (the lab's containers).
 */
export function roleEntries(spec: RoleSpec, uuid: string, mapPath: (p: string) => string, opts: { nfs: boolean }): FstabEntry[] {
  return [LIB_MOUNT, ...spec.mounts].filter((m) => opts.nfs || m.kind !== 'nfs').map((m) => mountEntry(m, uuid, mapPath));
}

export function mountEntry(m: MountSpec, uuid: string, mapPath: (p: string) => string): FstabEntry {
  switch (m.kind) {
    case 'subvol':
      return { source: `UUID=${uuid}`, target: m.target, type: 'btrfs', options: [`subvol=${m.subvol}`] };
    case 'bind':
      return { source: m.source, target: mapPath(m.target), type: 'none', options: [m.recursive ? 'rbind' : 'bind'] };
    case 'nfs':
      return { source: m.source, target: mapPath(m.target), type: 'nfs4', options: ['_netdev', 'rw'] };
  }
}
