import { describe, expect, it } from 'vitest';
import { entryProblems } from '../../../shared/fstab.ts';
import { CACHE_NFS_MOUNTS, hostsEntries, LIB_MOUNT, mountEntry, roleEntries, ROLES, type MountSpec } from '../../../shared/roles.ts';

/**
 * Annex 2's lists, copied by hand from the guide (typos included). The role data must equal them
 * except for the corrections listed here, each decided and explained in shared/roles.ts.
 */
const IMGS_SUBVOLUMES = `btrfs subv create /var/lib/icbd
btrfs subv create /var/lib/icbd/.snap
btrfs subv create /var/lib/icbd/shared-vms
mkdir /var/lib/icbd/mounts
btrfs subv create /var/lib/icbd/mounts/vmware
btrfs subv create /var/lib/icbd/mounts/livirt
btrfs subv create /var/lib/icbd/mounts/tftpboot
btrfs subv create /var/lib/icbd/nfs_home
btrfs subv create /var/lib/icbd/nfs_root
btrfs subv create /var/lib/icbd/rw
btrfs subv create /var/lib/icbd/iso
btrfs subv create /var/lib/icbd/tmp
btrfs subv create /var/lib/icbd/icbd`;

const GUIDE_SUBVOLUMES = {
  imgs: IMGS_SUBVOLUMES,
  cache: IMGS_SUBVOLUMES,
  rw: `btrfs subv create /var/lib/Home
btrfs subv create /var/lib/icbd
btrfs subv create /var/lib/icbd/.snap
btrfs subv create /var/lib/icbd/nfs_home
btrfs subv create /var/lib/icbd/nfs_root
btrfs subv create /var/lib/icbd/nfs_rw
btrfs subv create /var/lib/icbd/nfs_tmp
btrfs subv create /var/lib/icbd/rw
mkdir /var/lib/icbd/mounts
btrfs subv create /var/lib/icbd/mounts/tftpboot`,
  home: `btrfs subv create /var/lib/icbd
btrfs subv create /var/lib/icbd/.snap
btrfs subv create /var/lib/icbd/nfs_home
btrfs subv create /var/lib/icbd/nfs_root
btrfs subv create /var/lib/icbd/exports/nfs_home
btrfs subv create /var/lib/icbd/exports/nfs_root`,
};

const IMGS_FSTAB = `/var/lib/icbd/mounts/vmware      /var/lib/vmware      none    rbind    0 0
/var/lib/icbd/mounts/etc/iscsi    /etc/iscsi    none    rbind    0 0
/var/lib/icbd/mounts/etc/tgt      /etc/tgt      none    rbind    0 0
/var/lib/icbd/mounts/etc/httpd    /etc/httpd    none    rbind    0 0
/var/lib/icbd/mounts/etc/xinetd.d /etc/xinetd.d  none    rbind    0 0
/var/lib/icbd/mounts/tftpboot     /var/lib/tftpboot  none    rbind 0 0
/var/lib/icbd/mounts/etc/hosts    /etc/hosts      none    bind     0 0
/var/lib/icbd/mounts/etc/exports  /etc/exports    none    bind     0 0
/var/lib/icbd/mounts/etc/dnsmasq.conf /etc/dnsmasq.conf none    bind 0 0
/var/lib/icbd/icbd      /var/lib/tftpboot/icbd      none    rbind    0 0
/var/lib/icbd/bin      /var/lib/icbd/exports/bin  none    rbind    0 0
/var/lib/icbd/include  /var/lib/icbd/exports/include none    rbind 0 0
/var/lib/icbd/client    /var/lib/icbd/exports/client none    rbind    0 0
/var/lib/icbd/icbd      /var/lib/icbd/exports/icbd  none    rbind    0 0
/var/lib/icbd/tmp      /var/lib/icbd/exports/tmp    none    rbind    0 0
/var/lib/icbd/iso      /var/lib/icbd/exports/iso    none    rbind    0 0
/var/lib/icbd/shared-vms /var/lib/icbd/exports/shared-vms none rbind    0 0
/var/lib/icbd/nfs_home  /var/lib/icbd/exports/nfs_home none    rbind 0 0
/var/lib/icbd/nfs_root  /var/lib/icbd/exports/nfs_root none    rbind 0 0
/var/lib/libvirt/images /var/lib/icbd/exports/images none    rbind 0 0`;

const GUIDE_FSTAB = {
  imgs: IMGS_FSTAB,
  rw: `/dev/sdb          /home             btrfs    subvol=Home        0 0
/var/lib/icbd/nfs_home /var/lib/icbd/exports/nfs_home none    rbind    0 0
/var/lib/icbd/nfs_root /var/lib/icbd/exports/nfs_root none    rbind    0 0
/var/lib/icbd/rw       /var/lib/icbd/exports/rw       none    rbind    0 0
/var/lib/icbd/mounts/etc/hosts /etc/hosts          none    bind     0 0
/var/lib/icbd/mounts/etc/exports /etc/exports        none    bind     0 0
/var/lib/icbd/mounts/tftpboot /var/lib/tftpboot    none    rbind    0 0
/var/lib/icbd/mounts/etc/tgt /etc/tgt             none    rbind    0 0
/var/lib/icbd/mounts/etc/httpd /etc/httpd           none    rbind    0 0
/var/lib/icbd/mounts/etc/tgt/macsd /var/lib/icbd/exports/macsd none    rbind    0 0`,
  home: '/var/lib/icbd/mounts/etc/exports /etc/exports      none    bind     0 0',
  cache: `${IMGS_FSTAB}
home.icbd.local:/nfs_home /var/lib/icbd/nfs_home nfs4    _netdev,rw 0 0
home.icbd.local:/nfs_root /var/lib/icbd/nfs_root nfs4    _netdev,rw 0 0
data.icbd.local:/rw      /var/lib/icbd/rw          nfs4    _netdev,rw    0 0
data.icbd.local:/rw      /var/lib/icbd/exports/rw  nfs4    _netdev,rw 0 0
data.icbd.local:/macs.d /etc/tgt/macs.d nfs4    _netdev,rw    0 0`,
};

// Corrections, each argued in shared/roles.ts.
const fixSubvolume = (line: string) => line.replace('mounts/livirt', 'mounts/libvirt');
const fixFstab = (line: string) =>
  line.replace('/dev/sdb /home btrfs subvol=Home', 'UUID /home btrfs subvol=Lib/Home').replaceAll('macsd', 'macs.d');

const UUID = '3f1c2a8e-6b7d-4e2f-9a10-5c4b3d2e1f00';
const asGuideLine = (m: MountSpec) => {
  const e = mountEntry(m, UUID, (p) => p);
  return [e.source.replace(`UUID=${UUID}`, 'UUID'), e.target, e.type, e.options.join(','), '0', '0'].join(' ');
};

describe('roles match Annex 2', () => {
  it.each(['imgs', 'rw', 'home', 'cache'] as const)('%s: subvolumes and directories in the guide order', (role) => {
    const guide = GUIDE_SUBVOLUMES[role].split('\n').map(fixSubvolume);
    const ours = ROLES[role].layout.map((l) => (l.kind === 'dir' ? `mkdir ${l.path}` : `btrfs subv create ${l.path}`));
    // home: exports/ must exist before its subvolumes; the guide forgets it
    expect(ours.filter((l) => l !== 'mkdir /var/lib/icbd/exports')).toEqual(guide);
  });

  it.each(['imgs', 'rw', 'home', 'cache'] as const)('%s: fstab lines in the guide order', (role) => {
    const guide = GUIDE_FSTAB[role].split('\n').map((l) => fixFstab(l.trim().split(/\s+/).join(' ')));
    expect(ROLES[role].mounts.map(asGuideLine)).toEqual(guide);
  });

  it('every role mounts Lib on /var/lib first, by UUID', () => {
    for (const role of ['imgs', 'rw', 'home', 'cache'] as const) {
      expect(roleEntries(ROLES[role], UUID, (p) => p, { nfs: true })[0]).toEqual({ source: `UUID=${UUID}`, target: '/var/lib', type: 'btrfs', options: ['subvol=Lib'] });
    }
    expect(LIB_MOUNT).toEqual({ kind: 'subvol', subvol: 'Lib', target: '/var/lib' });
  });

  it('every line of every role is one the installer may write', () => {
    for (const role of ['imgs', 'rw', 'home', 'cache'] as const) {
      for (const e of roleEntries(ROLES[role], UUID, (p) => p, { nfs: true })) expect(entryProblems(e)).toEqual([]);
    }
  });

  it('the cache can leave its nfs4 lines out (no NFS client)', () => {
    const entries = roleEntries(ROLES.cache, UUID, (p) => p, { nfs: false });
    expect(entries.some((e) => e.type === 'nfs4')).toBe(false);
    expect(entries).toHaveLength(1 + ROLES.cache.mounts.length - CACHE_NFS_MOUNTS.length);
  });

  it('services: the guide lists, tftd read as tgtd, VMware dropped, ntpd everywhere', () => {
    expect(ROLES.imgs.services).toEqual(['libvirtd', 'dnsmasq', 'tftp', 'tgtd', 'nfs-server', 'httpd', 'ntpd']);
    expect(ROLES.cache.services).toEqual(['libvirtd', 'dnsmasq', 'tftp', 'tgtd', 'nfs-server', 'httpd', 'ntpd']);
    expect(ROLES.rw.services).toEqual(['tgtd', 'nfs-server', 'ntpd']);
    expect(ROLES.home.services).toEqual(['nfs-server', 'ntpd']);
  });

  it('imgs: ip_forward, the firewall services ticked in the guide, masquerading and its three NAT rules', () => {
    expect(ROLES.imgs.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(ROLES.imgs.firewall?.services).toEqual(
      'dhcp dhcpv6-client dns ftp http https iscsi-target mdns mountd nfs ntp rpc-bind rsyncd samba samba-client squid ssh tftp tftp-client'.split(' '),
    );
    expect(ROLES.imgs.firewall?.masquerade).toBe(true);
    expect(ROLES.imgs.firewall?.directRules.map((r) => r.join(' '))).toEqual([
      'ipv4 nat POSTROUTING 0 -o eth_ext -j MASQUERADE',
      'ipv4 filter FORWARD 0 -i eth_int -o eth_ext -j ACCEPT',
      'ipv4 filter FORWARD 0 -i eth_ext -o eth_int -m state --state RELATED,ESTABLISHED -j ACCEPT',
    ]);
    for (const role of ['rw', 'home', 'cache'] as const) expect(ROLES[role].firewall).toBeUndefined();
  });

  it('hosts: the guide line on imgs, split onto the client subnet on a cache', () => {
    const p = { imgs: '10.0.2.251', home: '10.0.2.12', data: '10.0.2.11', clients: '10.0.2.0/24', cacheClient: '10.1.2.251' };
    expect(hostsEntries(ROLES.imgs, p)[0]).toEqual(['10.0.2.251', ['imgs.icbd.local', 'boot.icbd.local', 'root.icbd.local', 'adm-s.icbd.local']]);
    expect(hostsEntries(ROLES.cache, p).slice(0, 2)).toEqual([
      ['10.0.2.251', ['imgs.icbd.local']],
      ['10.1.2.251', ['boot.icbd.local', 'root.icbd.local', 'adm-s.icbd.local']],
    ]);
    expect(hostsEntries(ROLES.rw, p).slice(1)).toEqual([
      ['10.0.2.12', ['home.icbd.local']],
      ['10.0.2.11', ['data.icbd.local']],
    ]);
    expect(() => hostsEntries(ROLES.cache, { ...p, cacheClient: undefined })).toThrow(/cacheClient/);
  });

  it('exports: only what the caches mount, under an NFSv4 root', () => {
    expect(ROLES.home.exports.map((e) => e.path)).toEqual(['/var/lib/icbd/exports', '/var/lib/icbd/exports/nfs_home', '/var/lib/icbd/exports/nfs_root']);
    expect(ROLES.rw.exports.map((e) => e.path.replace('/var/lib/icbd/exports', '') || '/')).toEqual(['/', '/nfs_home', '/nfs_root', '/rw', '/macs.d']);
    expect(ROLES.home.exports[0]!.options).toContain('fsid=0');
    expect(ROLES.imgs.exports).toEqual([]);
    expect(ROLES.cache.exports).toEqual([]);
  });
});
