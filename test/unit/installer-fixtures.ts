import { mapPath, packagesFor, SERVICES, type Family } from '../../shared/distro.ts';
import { editFstab, orderMounts, resolveBinds } from '../../shared/fstab.ts';
import { hostsLine, HOSTS, EXPORTS, exportsLine, SYSCTL, sysctlLine } from '../../shared/etc-files.ts';
import type { Role } from '../../shared/inventory.ts';
import { roleEntries, ROLES, hostsEntries, type Platform } from '../../shared/roles.ts';
import { editOwned } from '../../shared/textfile.ts';
import type { HostState, PathInfo } from '../../electron/core/installer/state.ts';
import type { InstallInput } from '../../electron/core/installer/step.ts';

/** Host states for plan tests: what a pristine VM of each distribution looks like, and an installed node. */

export const OS_RELEASE: Record<'debian' | 'rocky9' | 'centos7' | 'alma8', string> = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
  rocky9: 'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n',
  centos7: 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n',
  alma8: 'NAME="AlmaLinux"\nVERSION="8.9 (Midnight Oncilla)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\nPRETTY_NAME="AlmaLinux 8.9 (Midnight Oncilla)"\n',
};

export const PLATFORM: Platform = { imgs: '10.0.2.251', home: '10.0.2.12', data: '10.0.2.11', clients: '10.0.2.0/24', cacheClient: '10.1.2.251' };
export const UUID = '3f1c2a8e-6b7d-4e2f-9a10-5c4b3d2e1f00';

export const PRISTINE_FSTAB = '# /etc/fstab: static file system information.\n#\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\nUUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1\n';
export const PRISTINE_HOSTS = '127.0.0.1\tlocalhost\n127.0.1.1\tnode\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n';

export function input(role: Role, extra: Partial<InstallInput> = {}): InstallInput {
  return { host: role === 'cache' ? 'cache01' : role, role, platform: PLATFORM, ...extra };
}

const dir = (dev: string, ino: string, fstype: string): PathInfo => ({ kind: 'directory', dev, ino, fstype });
const file = (dev: string, ino: string, fstype: string): PathInfo => ({ kind: 'regular file', dev, ino, fstype });

/** A fresh minimal install: root on ext4, an empty 600 GiB /dev/vdb, nothing of iCBD. */
export function pristine(os: keyof typeof OS_RELEASE): HostState {
  const el = os !== 'debian';
  return {
    uid: 0,
    osRelease: OS_RELEASE[os],
    kernel: os === 'centos7' ? '3.10.0-1160.el7.x86_64' : os === 'debian' ? '6.1.0-18-amd64' : '5.14.0-362.el9.x86_64',
    clockSkew: 0,
    commands: ['findmnt', 'lsblk', 'systemctl', 'ssh-keygen', ...(el ? ['firewall-cmd', 'getenforce', 'setenforce', os === 'centos7' ? 'yum' : 'dnf'] : ['apt-get'])],
    btrfsInKernel: true,
    nfsd: true,
    nfsClient: true,
    findmntVerify: os !== 'centos7',
    devices: [
      { name: 'vda', kname: 'vda', pkname: '', type: 'disk', size: 17179869184, ro: false, fstype: '', label: '', uuid: '', pttype: 'dos', mountpoint: '', majMin: '252:0', nodes: ['/dev/vda'] },
      { name: 'vda1', kname: 'vda1', pkname: 'vda', type: 'part', size: 17178820608, ro: false, fstype: 'ext4', label: '', uuid: '0a1b2c3d-0000-4000-8000-000000000001', pttype: 'dos', mountpoint: '/', majMin: '252:1', nodes: ['/dev/vda1'] },
      { name: 'vdb', kname: 'vdb', pkname: '', type: 'disk', size: 644245094400, ro: false, fstype: '', label: '', uuid: '', pttype: '', mountpoint: '', majMin: '252:16', nodes: ['/dev/vdb'] },
    ],
    mounts: [{ target: '/', source: '/dev/vda1', fstype: 'ext4', fsroot: '/', options: 'rw,relatime', uuid: '0a1b2c3d-0000-4000-8000-000000000001' }],
    files: {
      '/etc/fstab': PRISTINE_FSTAB,
      '/etc/hosts': PRISTINE_HOSTS,
      ...(el ? { '/etc/selinux/config': 'SELINUX=enforcing\nSELINUXTYPE=targeted\n', '/etc/exports': '' } : { '/etc/sysctl.conf': '#kernel.domainname = example.com\n' }),
      '/etc/ssh/ssh_host_ed25519_key.pub': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfThisNode root@node\n',
    },
    paths: {
      '/var/lib': dir('2049', '131073', 'ext2/ext3'),
      '/home': dir('2049', '393217', 'ext2/ext3'),
      '/etc/hosts': file('2049', '1001', 'ext2/ext3'),
      ...(el ? { '/etc/exports': file('2049', '1002', 'ext2/ext3') } : {}),
    },
    dirEntries: { '/home': [] },
    units: {},
    packages: [],
    ipForward: '0',
    procSysWritable: true,
    ...(el ? { selinux: 'Enforcing', firewall: { running: true, available: ['dhcp', 'dns', 'http', 'https', 'nfs', 'ssh', 'tftp', 'mountd', 'rpc-bind', 'ntp', 'samba', 'samba-client', 'squid', 'mdns', 'ftp', 'iscsi-target', 'rsyncd', 'dhcpv6-client'], zoneServices: ['dhcpv6-client', 'ssh'], masquerade: false, directRules: [], zoneInterfaces: [], version: os === 'centos7' ? '0.6.3' : os === 'alma8' ? '0.9.11' : '1.2.5', extZone: '', defaultZone: 'public' } } : {}),
    addresses: [
      { ifname: 'lo', address: '127.0.0.1' },
      { ifname: 'ens192', address: '10.170.137.98' },
      { ifname: 'br0', address: '10.0.2.251' },
    ],
    defaultRouteIf: 'ens192',
  };
}

/**
 * The same host after a complete install, built from the role data the way the host would look:
 * our filesystem mounted, every subvolume, every bind with its source's inode, files written.
 */
export function installed(os: keyof typeof OS_RELEASE, role: Role, family: Family): HostState {
  const s = pristine(os);
  const spec = ROLES[role];
  const map = (p: string) => mapPath(family, p);
  const entries = roleEntries(spec, UUID, map, { nfs: true });
  s.devices[2] = { ...s.devices[2]!, fstype: 'btrfs', label: 'icbd', uuid: UUID, mountpoint: '/var/lib' };
  s.commands.push('btrfs', 'mkfs.btrfs', 'exportfs');
  s.packages = packagesFor(family).map((p) => p.name);
  s.mounts.push(...entries.map((e, i) => ({
    target: e.target,
    source: e.type === 'nfs4' ? e.source : '/dev/vdb',
    fstype: e.type === 'none' ? 'btrfs' : e.type,
    fsroot: e.type === 'btrfs' ? `/${e.options[0]!.slice('subvol='.length)}` : `/bind${i}`,
    options: 'rw',
    uuid: e.type === 'nfs4' ? '' : UUID,
  })));
  let ino = 5000;
  for (const l of spec.layout) s.paths[l.path] = l.kind === 'subvolume' ? dir('45', '256', 'btrfs') : dir('45', String(ino++), 'btrfs');
  s.paths['/var/lib'] = dir('45', '256', 'btrfs');
  s.paths['/root/.ssh'] = dir('2049', '77', 'ext2/ext3');
  for (const e of orderMounts(entries)) {
    const shared = e.type === 'none' ? (s.paths[e.source] ?? (spec.mounts.some((m) => m.kind === 'bind' && m.source === e.source && m.file) ? file('45', String(ino++), 'btrfs') : dir('45', String(ino++), 'btrfs'))) : dir('46', String(ino++), e.type);
    if (e.type === 'none') s.paths[e.source] = shared;
    s.paths[e.target] = shared;
    s.paths[resolveBinds(e.target, entries)] ??= shared;
  }
  s.files['/etc/fstab'] = editFstab(PRISTINE_FSTAB, entries);
  const hosts = editOwned(PRISTINE_HOSTS, HOSTS, hostsEntries(spec, PLATFORM).map(([a, n]) => hostsLine(a, n)));
  const hostsBind = spec.mounts.find((m) => m.kind === 'bind' && m.target === '/etc/hosts');
  s.files[hostsBind && hostsBind.kind === 'bind' ? hostsBind.source : '/etc/hosts'] = hosts;
  if (hostsBind) s.files['/etc/hosts'] = hosts;
  if (spec.exports.length) {
    const exportsText = editOwned('', EXPORTS, spec.exports.map((e) => exportsLine(e.path, PLATFORM.clients, e.options)));
    s.files['/var/lib/icbd/mounts/etc/exports'] = exportsText;
    s.files['/etc/exports'] = exportsText;
  }
  if (Object.keys(spec.sysctl).length) {
    s.files['/etc/sysctl.conf'] = editOwned(s.files['/etc/sysctl.conf'] ?? '', SYSCTL, Object.entries(spec.sysctl).map(([k, v]) => sysctlLine(k, v)));
    s.ipForward = '1';
  }
  s.files['/root/.ssh/id_ed25519.pub'] = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfThisNode root@node\n';
  for (const service of spec.services) s.units[SERVICES[service].unit[family]] = { loadState: 'loaded', activeState: 'active', unitFileState: 'enabled' };
  if (s.selinux) {
    s.selinux = 'Permissive';
    s.files['/etc/selinux/config'] = 'SELINUX=permissive\nSELINUXTYPE=targeted\n';
  }
  if (s.firewall && spec.firewall) {
    s.firewall = {
      ...s.firewall,
      zoneServices: [...spec.firewall.services].filter((x) => s.firewall!.available.includes(x)),
      masquerade: true,
      zoneInterfaces: ['br0'],
      directRules: spec.firewall.directRules.map((r) => r.map((w) => (w === 'eth_ext' ? 'ens192' : w === 'eth_int' ? 'br0' : w)).join(' ')),
      extZone: 'public',
      policy: { target: 'ACCEPT', ingress: ['internal'], egress: ['public'] },
    };
  }
  return s;
}
