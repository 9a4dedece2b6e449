import { describe, expect, it } from 'vitest';
import { familyOf, GUIDE_PACKAGES, installCommands, kernelWarning, mapPath, packagesFor, parseOsRelease, servicePackage, SERVICES } from '../../../shared/distro.ts';
import { OS_RELEASE } from '../../fixtures/installer.ts';

// Annex 2 "Install packages", every yum line in order (groupinstall as @group).
const GUIDE_LIST =
  'net-tools hdparm Xorg gdm qemu-kvm virt-manager gcc kernel-headers kernel-devel epel-release htop httpd ntp firefox open-vm-tools ' +
  'open-vm-tools-desktop exportfs vnc xinetd tigervnc-server-applet @fonts @X-window-system kde-workspace ksysguard tftp tftp-server target-cli ' +
  'iscsi-initiator-utils scsi-target-utils firewall-config tcpdump libvirt qemu rsync php wget bind-utils spice-protocol spice-server iotop iftop ' +
  'libguestfs libguestfs-tools traceroute strace nmap whois ed sysstat rsh pure-ftpd';

describe('distribution families', () => {
  it.each([
    [OS_RELEASE.centos7, 'el7'],
    [OS_RELEASE.alma8, 'el8'],
    [OS_RELEASE.rocky9, 'el9'],
    [OS_RELEASE.debian, 'debian'],
    ['ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n', 'debian'],
    ['ID="rhel"\nVERSION_ID="9.4"\n', 'el9'],
  ])('%#: %s', (text, family) => expect(familyOf(parseOsRelease(text))).toEqual({ family }));

  it.each(['ID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"', 'ID=debian\nVERSION_ID="10"\nPRETTY_NAME="Debian 10"', 'ID=centos\nVERSION_ID="6"', 'NAME=x'])('refuses %j', (text) =>
    expect(familyOf(parseOsRelease(text))).toHaveProperty('unsupported'),
  );

  it('parses quoted and unquoted os-release values', () => {
    expect(parseOsRelease(OS_RELEASE.rocky9)).toEqual({ id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.3', prettyName: 'Rocky Linux 9.3 (Blue Onyx)' });
  });
});

describe('the guide package list', () => {
  it('has an entry for every line of the guide, in order, plus what it uses without installing', () => {
    expect(GUIDE_PACKAGES.map((p) => p.guide.replaceAll(' ', '-')).slice(0, -2).join(' ')).toBe(GUIDE_LIST);
    expect(GUIDE_PACKAGES.slice(-2).map((p) => p.guide)).toEqual(['dnsmasq', 'btrfs-progs']);
  });

  it('says why wherever an item is dropped', () => {
    for (const p of GUIDE_PACKAGES) {
      const dropped = (['el7', 'el8', 'el9', 'debian'] as const).some((f) => !p.names[f]);
      if (dropped) expect(p.why, p.guide).toBeTruthy();
    }
  });

  it('drops the desktop, VMware and rsh everywhere', () => {
    for (const family of ['el7', 'el8', 'el9', 'debian'] as const) {
      const names = packagesFor(family).map((p) => p.name);
      for (const gone of ['Xorg', 'gdm', 'firefox', 'kde-workspace', 'virt-manager', 'open-vm-tools', 'rsh', 'gcc', 'vnc', 'target-cli', 'targetcli']) expect(names).not.toContain(gone);
    }
  });

  it('maps names per family', () => {
    const names = (f: 'el7' | 'el8' | 'el9' | 'debian') => packagesFor(f).map((p) => p.name);
    expect(names('el7')).toEqual(expect.arrayContaining(['httpd', 'ntp', 'xinetd', 'jwhois', 'nfs-utils', 'scsi-target-utils', 'epel-release', 'tftp-server']));
    expect(names('el9')).toEqual(expect.arrayContaining(['httpd', 'chrony', 'whois', 'nfs-utils', 'epel-release']));
    expect(names('el9')).not.toContain('xinetd');
    expect(names('el9')).not.toContain('ntp');
    expect(names('debian')).toEqual(expect.arrayContaining(['apache2', 'chrony', 'nfs-kernel-server', 'tftpd-hpa', 'tgt', 'open-iscsi', 'libvirt-daemon-system', 'qemu-system-x86', 'bind9-dnsutils', 'btrfs-progs', 'dnsmasq']));
    expect(names('debian')).not.toContain('epel-release');
    expect(packagesFor('el9').filter((p) => p.epel).map((p) => p.name)).toEqual(['htop', 'scsi-target-utils', 'iftop', 'pure-ftpd', 'btrfs-progs']);
    expect(packagesFor('debian').some((p) => p.epel)).toBe(false);
  });

  it('installs with yum on CentOS 7, dnf on EL 8/9 and apt on Debian/Ubuntu', () => {
    expect(installCommands('el7', ['httpd'])).toEqual([['yum', 'install', '-y', 'httpd']]);
    expect(installCommands('el8', ['httpd'])).toEqual([['dnf', 'install', '-y', 'httpd']]);
    expect(installCommands('debian', ['apache2'])).toEqual([
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'],
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', 'apache2'],
    ]);
    expect(installCommands('el9', [])).toEqual([]);
  });
});

describe('units and paths', () => {
  it('names each service per family', () => {
    const units = (f: 'el7' | 'el8' | 'el9' | 'debian') => Object.fromEntries(Object.entries(SERVICES).map(([s, m]) => [s, m.unit[f]]));
    expect(units('el7')).toEqual({ libvirtd: 'libvirtd', dnsmasq: 'dnsmasq', tftp: 'tftp.socket', tgtd: 'tgtd', 'nfs-server': 'nfs-server', httpd: 'httpd', ntpd: 'ntpd' });
    expect(units('el9')).toMatchObject({ httpd: 'httpd', ntpd: 'chronyd', tgtd: 'tgtd' });
    expect(units('debian')).toEqual({ libvirtd: 'libvirtd', dnsmasq: 'dnsmasq', tftp: 'tftpd-hpa', tgtd: 'tgt', 'nfs-server': 'nfs-server', httpd: 'apache2', ntpd: 'chrony' });
  });

  it('knows which package brings each unit', () => {
    expect(servicePackage('httpd', 'debian')).toBe('apache2');
    expect(servicePackage('ntpd', 'el8')).toBe('chrony');
    expect(servicePackage('tgtd', 'el7')).toBe('scsi-target-utils');
  });

  it("maps CentOS paths to Debian's", () => {
    expect(mapPath('debian', '/etc/httpd')).toBe('/etc/apache2');
    expect(mapPath('debian', '/var/lib/tftpboot/icbd')).toBe('/srv/tftp/icbd');
    expect(mapPath('debian', '/etc/httpdx')).toBe('/etc/httpdx');
    expect(mapPath('el9', '/etc/httpd')).toBe('/etc/httpd');
  });

  it("warns on the kernel with the guide's cp --reflink bug only", () => {
    expect(kernelWarning('3.10.0-693.5.2.el7.x86_64')).toMatch(/reflink/);
    expect(kernelWarning('3.10.0-514.2.2.el7.x86_64')).toBeUndefined();
    expect(kernelWarning('6.1.0-18-amd64')).toBeUndefined();
  });
});
