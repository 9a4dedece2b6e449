import type { Service } from './roles.ts';

/**
 * The guide was written for CentOS 7. Each distribution the installer supports is a family that
 * says how to install packages and what the guide's packages, units and paths are called there.
 */

export type Family = 'el7' | 'el8' | 'el9' | 'debian';
export const FAMILIES: readonly Family[] = ['el7', 'el8', 'el9', 'debian'];

export interface OsRelease {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): OsRelease {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    vars.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, '$2').replace(/\\(["$`\\])/g, '$1'));
  }
  return {
    id: vars.get('ID') ?? 'linux',
    idLike: (vars.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
    versionId: vars.get('VERSION_ID') ?? '',
    prettyName: vars.get('PRETTY_NAME') ?? vars.get('NAME') ?? 'Linux',
  };
}

const EL_IDS = new Set(['centos', 'rhel', 'rocky', 'almalinux', 'ol']);

/** The family of a host, or why it is not supported. */
export function familyOf(os: OsRelease): { family: Family } | { unsupported: string } {
  const major = Number.parseInt(os.versionId, 10);
  const el = EL_IDS.has(os.id) || os.idLike.includes('rhel');
  if (el && major >= 7 && major <= 9) return { family: `el${major}` as Family };
  if (os.id === 'debian' && major >= 11) return { family: 'debian' };
  if (os.id === 'ubuntu' && major >= 22) return { family: 'debian' };
  return {
    unsupported: `${os.prettyName} is not supported: the installer knows CentOS 7, RHEL/Rocky/Alma 8 and 9, Debian 11+ and Ubuntu 22.04+.`,
  };
}

export type PackageManager = 'yum' | 'dnf' | 'apt';
export const PACKAGE_MANAGER: Readonly<Record<Family, PackageManager>> = { el7: 'yum', el8: 'dnf', el9: 'dnf', debian: 'apt' };

/** A package of the guide: its name per family (absent = dropped there), and why where not obvious. */
export interface GuidePackage {
  guide: string;
  names: Partial<Record<Family, string>>;
  /** On EL these come from EPEL, so epel-release is installed first. */
  epel?: true;
  why?: string;
}

const same = (name: string) => ({ el7: name, el8: name, el9: name, debian: name });
const el = (name: string) => ({ el7: name, el8: name, el9: name });
const GUI = 'Graphical desktop: the console replaces the guide\'s "graphical environment"; servers stay headless.';
const VMWARE = 'VMware Workstation is dropped (not in any package repository; the platform runs its VMs with libvirt/QEMU).';

/**
 * "Install packages" of Annex 2, every line, in the guide's order. Packages the guide starts but
 * never installs (dnsmasq) or needs without saying (btrfs-progs) come after it.
 */
export const GUIDE_PACKAGES: readonly GuidePackage[] = [
  { guide: 'net-tools', names: same('net-tools') },
  { guide: 'hdparm', names: same('hdparm') },
  { guide: 'Xorg', names: {}, why: GUI },
  { guide: 'gdm', names: {}, why: GUI },
  { guide: 'qemu-kvm', names: { ...el('qemu-kvm'), debian: 'qemu-system-x86' } },
  { guide: 'virt-manager', names: {}, why: GUI },
  { guide: 'gcc', names: {}, why: `Only needed to build VMware Workstation's kernel modules. ${VMWARE}` },
  { guide: 'kernel-headers', names: {}, why: 'Only for building VMware modules (see gcc).' },
  { guide: 'kernel-devel', names: {}, why: 'Only for building VMware modules (see gcc).' },
  { guide: 'epel-release', names: el('epel-release'), why: 'EPEL carries htop, iftop, tgt and pure-ftpd on EL; Debian has them in main.' },
  { guide: 'htop', names: same('htop'), epel: true },
  { guide: 'httpd', names: { ...el('httpd'), debian: 'apache2' } },
  { guide: 'ntp', names: { el7: 'ntp', el8: 'chrony', el9: 'chrony', debian: 'chrony' }, why: 'ntpd is gone from EL 8+; chrony is the time service there and on Debian.' },
  { guide: 'firefox', names: {}, why: GUI },
  { guide: 'open-vm-tools', names: {}, why: 'VMware guest tools: install them by hand on VMware guests; nothing in iCBD uses them.' },
  { guide: 'open-vm-tools-desktop', names: {}, why: GUI },
  { guide: 'exportfs', names: { ...el('nfs-utils'), debian: 'nfs-kernel-server' }, why: 'exportfs is a command, not a package: the NFS server package ships it.' },
  { guide: 'vnc', names: {}, why: GUI },
  {
    guide: 'xinetd',
    names: { el7: 'xinetd' },
    why: "CentOS 7's tftp-server runs under xinetd; EL 8+ ships tftp.socket and Debian's tftpd-hpa is a daemon. /etc/xinetd.d is still bind-mounted as the guide says.",
  },
  { guide: 'tigervnc-server-applet', names: {}, why: GUI },
  { guide: '@fonts', names: {}, why: GUI },
  { guide: '@X window system', names: {}, why: GUI },
  { guide: 'kde-workspace', names: {}, why: GUI },
  { guide: 'ksysguard', names: {}, why: GUI },
  { guide: 'tftp', names: { ...el('tftp'), debian: 'tftp-hpa' } },
  { guide: 'tftp-server', names: { ...el('tftp-server'), debian: 'tftpd-hpa' } },
  {
    guide: 'target-cli',
    names: {},
    why: 'Marked "**" (doubtful) in the guide: the platform runs tgt (scsi-target-utils), and a second iSCSI target (LIO) would compete for port 3260.',
  },
  { guide: 'iscsi-initiator-utils', names: { ...el('iscsi-initiator-utils'), debian: 'open-iscsi' } },
  { guide: 'scsi-target-utils', names: { ...el('scsi-target-utils'), debian: 'tgt' }, epel: true },
  { guide: 'firewall-config', names: {}, why: 'The GUI of firewalld; the installer configures firewalld with firewall-cmd.' },
  { guide: 'tcpdump', names: same('tcpdump') },
  { guide: 'libvirt', names: { ...el('libvirt'), debian: 'libvirt-daemon-system' } },
  { guide: 'qemu', names: {}, why: "EPEL 7's meta-package for every emulated architecture; qemu-kvm (qemu-system-x86) is the one the platform runs." },
  { guide: 'rsync', names: same('rsync') },
  { guide: 'php', names: same('php') },
  { guide: 'wget', names: same('wget') },
  { guide: 'bind-utils', names: { ...el('bind-utils'), debian: 'bind9-dnsutils' } },
  { guide: 'spice-protocol', names: {}, why: 'Headers for building SPICE clients; nothing is built on the servers.' },
  { guide: 'spice-server', names: {}, why: 'A library that qemu-kvm pulls in itself where the distribution builds it with SPICE.' },
  { guide: 'iotop', names: same('iotop') },
  { guide: 'iftop', names: same('iftop'), epel: true },
  { guide: 'libguestfs', names: { ...el('libguestfs'), debian: 'libguestfs0' } },
  { guide: 'libguestfs-tools', names: same('libguestfs-tools') },
  { guide: 'traceroute', names: same('traceroute') },
  { guide: 'strace', names: same('strace') },
  { guide: 'nmap', names: same('nmap') },
  { guide: 'whois', names: { el7: 'jwhois', el8: 'whois', el9: 'whois', debian: 'whois' }, why: "CentOS 7's whois client is jwhois." },
  { guide: 'ed', names: same('ed') },
  { guide: 'sysstat', names: same('sysstat') },
  { guide: 'rsh', names: {}, why: 'Clear-text remote shell, gone from EL 8+; the nodes trust each other with SSH keys instead.' },
  { guide: 'pure-ftpd', names: same('pure-ftpd'), epel: true },
  { guide: 'dnsmasq', names: same('dnsmasq'), why: 'Started by the guide, never installed by it (CentOS 7 gets it with libvirt).' },
  {
    guide: 'btrfs-progs',
    names: same('btrfs-progs'),
    epel: true,
    why: 'Needed from the second step on. RHEL 8+ dropped btrfs: btrfs-progs is in EPEL and the kernel needs btrfs (preflight checks it).',
  },
];

/** `yum update` is not run: upgrading every package (and the kernel, see preflight) is the operator's call. */
export function packagesFor(family: Family): { name: string; epel: boolean }[] {
  return GUIDE_PACKAGES.flatMap((p) => {
    const name = p.names[family];
    return name ? [{ name, epel: family !== 'debian' && p.epel === true }] : [];
  });
}

export interface ServiceMapping {
  unit: Readonly<Record<Family, string>>;
  /** The guide's package that provides it (GUIDE_PACKAGES[].guide). */
  package: string;
  /**
   * Configuration the service reads at start that the role bind-mounts: after such a mount the
   * running service still has the old files open, so it is restarted (LAB-NOTES).
   */
  config: readonly string[];
}

export const SERVICES: Readonly<Record<Service, ServiceMapping>> = {
  libvirtd: { unit: { ...el('libvirtd'), debian: 'libvirtd' }, package: 'libvirt', config: [] },
  dnsmasq: { unit: same('dnsmasq'), package: 'dnsmasq', config: ['/etc/dnsmasq.conf', '/etc/hosts'] },
  // tftp.service is socket-activated on EL; enabling the socket is what survives a reboot.
  tftp: { unit: { ...el('tftp.socket'), debian: 'tftpd-hpa' }, package: 'tftp-server', config: ['/var/lib/tftpboot'] },
  tgtd: { unit: { ...el('tgtd'), debian: 'tgt' }, package: 'scsi-target-utils', config: ['/etc/tgt'] },
  // Debian's nfs-kernel-server installs nfs-server.service (nfs-kernel-server is the alias).
  'nfs-server': { unit: same('nfs-server'), package: 'exportfs', config: ['/etc/exports'] },
  httpd: { unit: { ...el('httpd'), debian: 'apache2' }, package: 'httpd', config: ['/etc/httpd'] },
  ntpd: { unit: { el7: 'ntpd', el8: 'chronyd', el9: 'chronyd', debian: 'chrony' }, package: 'ntp', config: [] },
};

/** The package a service's unit comes from on a family (undefined when the guide package is dropped there). */
export function servicePackage(service: Service, family: Family): string | undefined {
  return GUIDE_PACKAGES.find((p) => p.guide === SERVICES[service].package)?.names[family];
}

/**
 * Paths the guide writes as CentOS has them: Debian's Apache reads /etc/apache2 and tftpd-hpa
 * serves /srv/tftp, so the bind mounts land where those services look.
 */
const PATHS: Readonly<Record<Family, Readonly<Record<string, string>>>> = {
  el7: {},
  el8: {},
  el9: {},
  debian: { '/etc/httpd': '/etc/apache2', '/var/lib/tftpboot': '/srv/tftp' },
};

export function mapPath(family: Family, path: string): string {
  for (const [from, to] of Object.entries(PATHS[family])) {
    if (path === from || path.startsWith(from + '/')) return to + path.slice(from.length);
  }
  return path;
}

/** "Attention - CentOS 7 Kernel Version!": cp --reflink=always misbehaves on this kernel. */
export const REFLINK_BUG_KERNEL = '3.10.0-693.5.2.el7';

export function kernelWarning(release: string): string | undefined {
  if (!release.startsWith(REFLINK_BUG_KERNEL)) return undefined;
  return `Kernel ${release} has the cp --reflink=always bug the guide warns about; boot an older (3.10.0-514.2.2.el7) or a fixed newer kernel.`;
}

/** How each family installs packages, as argv lists (run in order). */
export function installCommands(family: Family, names: readonly string[]): string[][] {
  if (names.length === 0) return [];
  switch (PACKAGE_MANAGER[family]) {
    case 'apt':
      return [
        ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'],
        ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...names],
      ];
    case 'yum':
      return [['yum', 'install', '-y', ...names]];
    case 'dnf':
      return [['dnf', 'install', '-y', ...names]];
  }
}
