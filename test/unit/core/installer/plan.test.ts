import { describe, expect, it } from 'vitest';
import { planInstall, stepsFor, type InstallPlan } from '../../../../electron/core/installer/plan.ts';
import type { Change, StepId } from '../../../../electron/core/installer/step.ts';
import { CACHE_NFS_MOUNTS } from '../../../../shared/roles.ts';
import { command } from '../../../../shared/shell.ts';
import { withSockets } from '../../../../electron/core/installer/state.ts';
import { installed, input, pristine, PRISTINE_FSTAB, PRISTINE_HOSTS, UUID } from '../../../fixtures/installer.ts';

// argv joined by spaces for reading; how it is quoted for the shell is shared/shell.ts's business
const commands = (plan: InstallPlan, step: StepId) => (plan.steps.find((s) => s.id === step)?.changes ?? []).flatMap((c: Change) => (c.kind === 'command' ? [c.argv.join(' ')] : []));
const files = (plan: InstallPlan, step: StepId) => (plan.steps.find((s) => s.id === step)?.changes ?? []).flatMap((c: Change) => (c.kind === 'file' ? [c] : []));
const notices = (plan: InstallPlan, step: StepId) => plan.steps.find((s) => s.id === step)?.notices.map((n) => `${n.level}: ${n.message}`) ?? [];

const ROLES = ['imgs', 'rw', 'home', 'cache'] as const;

describe('an installed host plans nothing', () => {
  it.each([
    ['debian', 'debian'],
    ['rocky9', 'el9'],
    ['alma8', 'el8'],
    ['centos7', 'el7'],
  ] as const)('%s', (os, family) => {
    for (const role of ROLES) {
      const plan = planInstall(installed(os, role, family), input(role));
      expect(plan.blockers, role).toEqual([]);
      expect(plan.changes, role).toBe(0);
    }
  });

  it('a mount lost after a reboot is planned again, and only it', () => {
    const s = installed('debian', 'cache', 'debian');
    s.mounts = s.mounts.filter((m) => m.target !== '/srv/tftp/icbd');
    const plan = planInstall(s, input('cache'));
    expect(plan.changes).toBe(1);
    expect(commands(plan, 'mounts')).toEqual(['mount /srv/tftp/icbd']);
  });

  it('a service its listening socket starts on demand is not started by hand (Debian libvirtd stops itself when idle)', () => {
    const s = installed('debian', 'cache', 'debian');
    s.units = withSockets({ ...s.units, libvirtd: { ...s.units.libvirtd!, activeState: 'inactive' } }, 'libvirtd libvirtd.socket active\nlibvirtd libvirtd-ro.socket active\n');
    const plan = planInstall(s, input('cache'));
    expect(plan.changes).toBe(0);
    expect(notices(plan, 'services')).toContain('info: libvirtd is started on demand by its socket, which listens; it may stop itself when idle.');
    // the socket not listening: started as any other
    s.units = withSockets({ ...s.units, libvirtd: { ...s.units.libvirtd!, socketActive: false } }, 'libvirtd libvirtd.socket inactive\n');
    expect(commands(planInstall(s, input('cache')), 'services')).toEqual(['systemctl start libvirtd']);
  });

  it('a stopped service is started again, and only it', () => {
    const s = installed('rocky9', 'home', 'el9');
    s.units['nfs-server'] = { loadState: 'loaded', activeState: 'failed', unitFileState: 'enabled' };
    expect(commands(planInstall(s, input('home')), 'services')).toEqual(['systemctl start nfs-server']);
  });
});

describe('a pristine Debian 12 host', () => {
  for (const role of ROLES) {
    it(`${role}: a full plan, blocked only until the disk is typed`, () => {
      const blocked = planInstall(pristine('debian'), input(role));
      expect(blocked.blockers).toEqual([{ step: 'disk', message: 'Type the disk to format to confirm: /dev/vdb (600 GiB).' }]);
      const plan = planInstall(pristine('debian'), input(role, { confirmDisk: 'vdb' }));
      expect(plan.blockers).toEqual([]);
      expect(plan.family).toBe('debian');
      expect(commands(plan, 'packages')[0]).toBe('env DEBIAN_FRONTEND=noninteractive apt-get update -q');
      expect(commands(plan, 'packages')[1]).toMatch(/^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends net-tools hdparm qemu-system-x86 .* dnsmasq btrfs-progs$/);
      expect(commands(plan, 'disk')).toEqual(['mkfs.btrfs -L icbd /dev/vdb']);
      expect(plan.steps.find((s) => s.id === 'disk')?.destructive).toBe(true);
      expect(commands(plan, 'selinux')).toEqual([]);
      expect(plan.steps.map((s) => s.id)).toEqual(
        ['preflight', 'packages', 'selinux', 'disk', 'lib', 'layout', 'hosts', 'mounts', ...(role === 'imgs' ? ['sysctl', 'firewall'] : []), ...(role === 'rw' || role === 'home' ? ['exports'] : []), 'services', 'ssh-key', 'ssh-trust'],
      );
    });
  }

  it('no package source reachable: the plan names the missing packages and what to do, and blocks before any change', () => {
    const s = { ...pristine('debian'), packageSource: { reachable: false, detail: "http://deb.debian.org/debian/dists/bookworm/InRelease: E: Failed to fetch … Temporary failure resolving 'deb.debian.org'" } };
    const plan = planInstall(s, input('cache', { confirmDisk: '/dev/vdb' }));
    const blocker = plan.blockers.find((b) => b.step === 'packages');
    expect(blocker?.message).toMatch(/^No package source answers from this host \(http:\/\/deb\.debian\.org\/debian\/dists\/bookworm\/InRelease: .*Temporary failure resolving/);
    expect(blocker?.message).toContain('net-tools, hdparm, qemu-system-x86');
    expect(blocker?.message).toMatch(/Acquire::http::Proxy .* install these packages by hand, then plan again\.$/);
    // with everything installed there is nothing to fetch, and nothing to block
    const done = { ...installed('debian', 'cache', 'debian'), packageSource: s.packageSource };
    expect(planInstall(done, input('cache')).blockers).toEqual([]);
    // reachable: no blocker
    expect(planInstall({ ...s, packageSource: { reachable: true, detail: 'ok' } }, input('cache', { confirmDisk: '/dev/vdb' })).blockers).toEqual([]);
  });

  it('lib: copy as Lib.new, rename, fstab line, mount — in that order', () => {
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: '/dev/vdb' }));
    expect(commands(plan, 'lib')).toEqual([
      'mkdir -p /run/icbd-install/top',
      'mount -o subvolid=5 UUID=UUID-OF-THE-NEW-FILESYSTEM /run/icbd-install/top',
      'btrfs subvolume delete /run/icbd-install/top/Lib',
      'btrfs subvolume delete /run/icbd-install/top/Lib.new',
      'btrfs subvolume create /run/icbd-install/top/Lib.new',
      'cp -a /var/lib/. /run/icbd-install/top/Lib.new/',
      'mv -T /run/icbd-install/top/Lib.new /run/icbd-install/top/Lib',
      'mount /var/lib',
      'umount /run/icbd-install/top',
    ]);
    const lib = plan.steps.find((s) => s.id === 'lib')!.changes;
    expect(lib.map((c) => c.kind)).toEqual(['command', 'command', 'command', 'command', 'command', 'command', 'command', 'file', 'command', 'command']);
    expect(lib[2]).toMatchObject({ onlyIf: ['test', '-e', '/run/icbd-install/top/Lib'] });
    expect(lib[8]).toMatchObject({ undo: ['umount', '/var/lib'] });
  });

  it('cache: mounts in parent-first order, Debian paths, nfs4 before the rbinds that export them', () => {
    const s = installed('debian', 'cache', 'debian');
    s.files['/etc/fstab'] = PRISTINE_FSTAB + `UUID=${UUID}\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n`;
    s.mounts = s.mounts.filter((m) => m.target === '/' || m.target === '/var/lib');
    const plan = planInstall(s, input('cache'));
    const mounts = commands(plan, 'mounts').filter((c) => c.startsWith('mount '));
    expect(mounts).toEqual(
      [
        '/var/lib/vmware', '/etc/iscsi', '/etc/tgt', '/etc/apache2', '/etc/xinetd.d', '/srv/tftp', '/etc/hosts', '/etc/exports', '/etc/dnsmasq.conf', '/srv/tftp/icbd',
        '/var/lib/icbd/exports/bin', '/var/lib/icbd/exports/include', '/var/lib/icbd/exports/client', '/var/lib/icbd/exports/icbd', '/var/lib/icbd/exports/tmp',
        '/var/lib/icbd/exports/iso', '/var/lib/icbd/exports/shared-vms', '/var/lib/icbd/exports/images', '/var/lib/icbd/nfs_home', '/var/lib/icbd/exports/nfs_home',
        '/var/lib/icbd/nfs_root', '/var/lib/icbd/exports/nfs_root', '/var/lib/icbd/rw', '/var/lib/icbd/exports/rw', '/etc/tgt/macs.d',
      ].map((t) => `mount ${t}`),
    );
    expect(commands(plan, 'mounts').at(-1)).toBe('systemctl try-restart dnsmasq tftpd-hpa tgt nfs-server apache2');
    const [fstab] = files(plan, 'mounts');
    expect(fstab?.fstab).toBe(true);
    expect(fstab?.diff).toContain('+/var/lib/icbd/mounts/etc/httpd\t/etc/apache2\tnone\trbind\t0 0\n');
    expect(fstab?.diff).toContain('+home.icbd.local:/nfs_home\t/var/lib/icbd/nfs_home\tnfs4\t_netdev,rw\t0 0\n');
  });

  it('cache without NFS (the lab): no nfs4 line, and a warning', () => {
    const plan = planInstall(pristine('debian'), input('cache', { confirmDisk: 'vdb', nfs: false }));
    expect(files(plan, 'mounts')[0]?.after).not.toContain('nfs4');
    expect(notices(plan, 'mounts')).toContain("warning: The cache's nfs4 lines are left out (no NFS client on this host).");
  });

  it('cache: the names of the nfs4 servers are in /etc/hosts before anything is mounted, and its bind source is a copy of it', () => {
    const ids = stepsFor('cache').map((s) => s.id);
    expect(ids.indexOf('hosts')).toBeLessThan(ids.indexOf('mounts'));
    const s = pristine('debian');
    const plan = planInstall(s, input('cache', { confirmDisk: 'vdb' }));
    const [hosts, ...more] = files(plan, 'hosts');
    expect(more).toEqual([]);
    expect(hosts).toMatchObject({ path: '/etc/hosts', inPlace: false, before: PRISTINE_HOSTS });
    expect(hosts?.after).toBe(PRISTINE_HOSTS + '10.0.2.251\timgs.icbd.local\n10.1.2.251\tboot.icbd.local root.icbd.local adm-s.icbd.local\n10.0.2.12\thome.icbd.local\n10.0.2.11\tdata.icbd.local\n');
    const servers = new Set(CACHE_NFS_MOUNTS.flatMap((m) => (m.kind === 'nfs' ? [m.source.split(':')[0]!] : [])));
    expect([...servers].filter((name) => !hosts!.after.split('\n').some((l) => l.split(/\s+/).slice(1).includes(name)))).toEqual([]);
    const mounts = commands(plan, 'mounts');
    const copy = mounts.indexOf('cp -a -- /etc/hosts /var/lib/icbd/mounts/etc/hosts.icbd-new');
    expect(copy).toBeGreaterThanOrEqual(0);
    expect(mounts.findIndex((c) => c.startsWith('mount '))).toBeGreaterThan(copy);

    // the hosts step applied: it plans nothing more, and neither once the mounts step has bound the copy over the file
    s.files['/etc/hosts'] = hosts!.after;
    expect(files(planInstall(s, input('cache', { confirmDisk: 'vdb' })), 'hosts')).toEqual([]);
    s.files['/var/lib/icbd/mounts/etc/hosts'] = hosts!.after;
    s.paths['/var/lib/icbd/mounts/etc/hosts'] = s.paths['/etc/hosts']!;
    expect(files(planInstall(s, input('cache', { confirmDisk: 'vdb' })), 'hosts')).toEqual([]);
  });

  it('cache: a bind source that exists but is not mounted yet is edited with the file; once mounted, only the source, in place', () => {
    const source = '/var/lib/icbd/mounts/etc/hosts';
    const s = installed('debian', 'cache', 'debian');
    s.mounts = s.mounts.filter((m) => m.target !== '/etc/hosts');
    s.paths['/etc/hosts'] = { kind: 'regular file', dev: '2049', ino: '1001', fstype: 'ext2/ext3' };
    s.files['/etc/hosts'] = PRISTINE_HOSTS;
    s.files[source] = PRISTINE_HOSTS;
    const plan = planInstall(s, input('cache'));
    expect(files(plan, 'hosts').map((f) => [f.path, f.inPlace, f.after.endsWith('10.0.2.11\tdata.icbd.local\n')])).toEqual([
      ['/etc/hosts', false, true],
      [source, true, true],
    ]);
    expect(commands(plan, 'hosts')).toEqual(['systemctl try-restart dnsmasq']);
    expect(commands(plan, 'mounts')).toEqual(['mount /etc/hosts', 'systemctl try-restart dnsmasq']);

    const bound = installed('debian', 'cache', 'debian');
    bound.files[source] = PRISTINE_HOSTS;
    expect(files(planInstall(bound, input('cache')), 'hosts').map((f) => [f.path, f.inPlace])).toEqual([[source, true]]);
  });

  it("cache: /etc/hosts mounted by someone else (a container's) is written in place and still copied into the bind source", () => {
    const s = pristine('debian');
    s.mounts.push({ target: '/etc/hosts', source: '/dev/vda1', fstype: 'ext4', fsroot: '/run/hosts', options: 'rw', uuid: '' });
    const plan = planInstall(s, input('cache', { confirmDisk: 'vdb' }));
    expect(files(plan, 'hosts')).toMatchObject([{ path: '/etc/hosts', inPlace: true }]);
    expect(commands(plan, 'mounts')).toContain('cp -a -- /etc/hosts /var/lib/icbd/mounts/etc/hosts.icbd-new');
  });

  it('imgs: ip_forward persisted and live; no firewalld on Debian is said, not skipped silently', () => {
    const plan = planInstall(pristine('debian'), input('imgs', { confirmDisk: 'vdb' }));
    expect(files(plan, 'sysctl')[0]?.after).toBe('#kernel.domainname = example.com\nnet.ipv4.ip_forward=1\n');
    expect(commands(plan, 'sysctl')).toEqual(['sysctl -w net.ipv4.ip_forward=1']);
    expect(notices(plan, 'firewall')[0]).toMatch(/^warning: firewalld is not installed/);
    expect(commands(plan, 'services')).toEqual(['systemctl enable libvirtd dnsmasq tftpd-hpa tgt nfs-server apache2 chrony', 'systemctl start libvirtd dnsmasq tftpd-hpa tgt nfs-server apache2 chrony']);
  });

  it('rw: Home is filled from /home before it gets its name, and mounted as Lib/Home', () => {
    const s = installed('debian', 'rw', 'debian');
    delete s.paths['/var/lib/Home'];
    s.mounts = s.mounts.filter((m) => m.target !== '/home');
    const plan = planInstall(s, input('rw'));
    expect(commands(plan, 'layout')).toEqual([
      'btrfs subvolume delete /var/lib/Home.new',
      'btrfs subvolume create /var/lib/Home.new',
      'cp -a /home/. /var/lib/Home.new/',
      'mv -T /var/lib/Home.new /var/lib/Home',
    ]);
    expect(commands(plan, 'mounts')).toEqual(['mount /home']);
  });

  it('home: exports under an NFSv4 root for the platform network, then exportfs -ra', () => {
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: 'vdb' }));
    // the dry run of a pristine host names the file the apply writes: the bind source, made by the mounts step before
    expect(files(plan, 'exports')[0]).toMatchObject({ path: '/var/lib/icbd/mounts/etc/exports', inPlace: true });
    expect(files(plan, 'exports')[0]?.after).toBe(
      '/var/lib/icbd/exports\t10.0.2.0/24(rw,fsid=0,crossmnt,no_subtree_check,no_root_squash)\n/var/lib/icbd/exports/nfs_home\t10.0.2.0/24(rw,no_subtree_check,no_root_squash)\n/var/lib/icbd/exports/nfs_root\t10.0.2.0/24(rw,no_subtree_check,no_root_squash)\n',
    );
    expect(commands(plan, 'exports')).toEqual(['exportfs -ra']);
    // as the step runs, after the mounts step: at the bind source, in place
    const s = installed('debian', 'home', 'debian');
    s.files['/var/lib/icbd/mounts/etc/exports'] = '';
    expect(files(planInstall(s, input('home')), 'exports').map((f) => [f.path, f.inPlace, f.after])).toEqual([['/var/lib/icbd/mounts/etc/exports', true, files(plan, 'exports')[0]?.after]]);
  });

  it('ssh: a key for the node, and trust of the peers given, each key from its peer\'s own addresses', () => {
    const peer = { names: ['imgs', '10.0.2.251'], sources: ['10.0.2.251', '192.168.1.5'], publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPeer root@imgs', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost' };
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: 'vdb', peers: [peer] }));
    expect(commands(plan, 'ssh-key')).toEqual(['install -d -m 700 /root/.ssh', 'ssh-keygen -q -t ed25519 -N  -C root@home -f /root/.ssh/id_ed25519']);
    expect(files(plan, 'ssh-trust').map((f) => [f.path, f.after, f.mode])).toEqual([
      ['/root/.ssh/authorized_keys', `from="10.0.2.251,192.168.1.5" ${peer.publicKey}\n`, '600'],
      ['/root/.ssh/known_hosts', 'imgs,10.0.2.251 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\n', '644'],
    ]);
    expect(notices(plan, 'ssh-trust')).toEqual([]);
  });

  it('ssh: a peer known by name alone is trusted from any address, and the plan says so', () => {
    const peer = { name: 'imgs', names: ['imgs'], sources: [], publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPeer root@imgs' };
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: 'vdb', peers: [peer] }));
    expect(files(plan, 'ssh-trust')[0]?.after).toBe(`${peer.publicKey}\n`);
    expect(notices(plan, 'ssh-trust')).toEqual([expect.stringMatching(/^warning: imgs has no IP address .*accepted from any address/)]);
  });

  it('ssh: peers not installed or unreachable are said, never silently skipped; a peer with an address gets an /etc/hosts line', () => {
    const peers = [
      { name: 'imgs', names: ['imgs', '10.0.2.251'], sources: ['10.0.2.251'], address: '10.0.2.251', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPeer root@imgs', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost' },
      { name: 'cache01', names: ['cache01', '10.0.2.101'], sources: ['10.0.2.101'], address: '10.0.2.101', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICache' },
      { name: 'rw', names: ['rw'], sources: [], problem: 'connection timed out' },
    ];
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: 'vdb', peers }));
    expect(notices(plan, 'ssh-trust')).toEqual([
      'info: cache01 has no root key yet: trust with it will be completed when it is installed (install trust).',
      'warning: rw is not reachable (connection timed out): trust with it will be completed when it is reachable (install trust).',
    ]);
    expect(files(plan, 'ssh-trust')[1]?.after).toContain('cache01,10.0.2.101 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICache\n');
    expect(files(plan, 'hosts')[0]?.after).toMatch(/^10\.0\.2\.251\timgs\n10\.0\.2\.101\tcache01\n$/m);
  });
});

describe('a pristine RHEL-family host (the lab cannot run these)', () => {
  it('Rocky 9 imgs: dnf with EPEL first, httpd, chronyd, tftp.socket, tgtd', () => {
    const plan = planInstall(pristine('rocky9'), input('imgs', { confirmDisk: '/dev/vdb' }));
    expect(plan.family).toBe('el9');
    expect(commands(plan, 'packages')[0]).toBe('dnf install -y epel-release');
    expect(commands(plan, 'packages')[1]).toMatch(/^dnf install -y net-tools hdparm qemu-kvm htop httpd chrony nfs-utils tftp tftp-server .* btrfs-progs$/);
    expect(commands(plan, 'services')).toEqual(['systemctl enable libvirtd dnsmasq tftp.socket tgtd nfs-server httpd chronyd', 'systemctl start libvirtd dnsmasq tftp.socket tgtd nfs-server httpd chronyd']);
    expect(files(plan, 'mounts')[0]?.after).toContain('/var/lib/icbd/mounts/etc/httpd\t/etc/httpd\tnone\trbind\t0 0\n/var/lib/icbd/mounts/etc/xinetd.d');
    expect(files(plan, 'mounts')[0]?.after).toContain('/var/lib/icbd/mounts/tftpboot\t/var/lib/tftpboot\tnone\trbind\t0 0');
  });

  it('CentOS 7 cache: yum, ntpd, xinetd, jwhois', () => {
    const plan = planInstall(pristine('centos7'), input('cache', { confirmDisk: '/dev/vdb' }));
    expect(commands(plan, 'packages')[1]).toMatch(/^yum install -y net-tools hdparm qemu-kvm htop httpd ntp nfs-utils xinetd tftp .* jwhois .*$/);
    expect(commands(plan, 'services')[1]).toBe('systemctl start libvirtd dnsmasq tftp.socket tgtd nfs-server httpd ntpd');
    expect(notices(plan, 'preflight')).toContain('info: This findmnt has no --verify: /etc/fstab is checked by the installer alone.');
  });

  it('SELinux enforcing: permissive in the config and live, with a reboot notice', () => {
    const plan = planInstall(pristine('alma8'), input('rw', { confirmDisk: '/dev/vdb' }));
    const [config] = files(plan, 'selinux');
    expect(config).toMatchObject({ path: '/etc/selinux/config', before: 'SELINUX=enforcing\nSELINUXTYPE=targeted\n', after: 'SELINUX=permissive\nSELINUXTYPE=targeted\n' });
    expect(config?.diff).toBe('--- a/etc/selinux/config\n+++ b/etc/selinux/config\n@@ -1,2 +1,2 @@\n-SELINUX=enforcing\n+SELINUX=permissive\n SELINUXTYPE=targeted\n');
    expect(commands(plan, 'selinux')).toEqual(['setenforce 0']);
    expect(notices(plan, 'selinux')[0]).toMatch(/^warning: .*reboot/);
  });

  it('SELinux disabled stays disabled', () => {
    const s = pristine('rocky9');
    s.files['/etc/selinux/config'] = 'SELINUX=disabled\n';
    s.selinux = 'Disabled';
    expect(planInstall(s, input('home', { confirmDisk: 'vdb' })).steps.find((x) => x.id === 'selinux')?.changes).toEqual([]);
  });

  it('imgs firewalld: the ticked services, the internal interface, masquerading, the three NAT rules, one reload', () => {
    const plan = planInstall(pristine('rocky9'), input('imgs', { confirmDisk: 'vdb' }));
    expect(commands(plan, 'firewall')).toEqual([
      'firewall-cmd --permanent --zone=internal --add-service=dhcp --add-service=dns --add-service=ftp --add-service=http --add-service=https --add-service=iscsi-target --add-service=mdns --add-service=mountd --add-service=nfs --add-service=ntp --add-service=rpc-bind --add-service=rsyncd --add-service=samba --add-service=samba-client --add-service=squid --add-service=tftp',
      'firewall-cmd --permanent --zone=internal --change-interface=br0',
      'firewall-cmd --permanent --zone=internal --add-masquerade',
      'firewall-cmd --permanent --direct --add-rule ipv4 nat POSTROUTING 0 -o ens192 -j MASQUERADE',
      'firewall-cmd --permanent --direct --add-rule ipv4 filter FORWARD 0 -i br0 -o ens192 -j ACCEPT',
      'firewall-cmd --permanent --direct --add-rule ipv4 filter FORWARD 0 -i ens192 -o br0 -m state --state RELATED,ESTABLISHED -j ACCEPT',
      // firewalld 1.x rejects forwarded packets in its own table whatever the direct rules accept
      'firewall-cmd --permanent --zone=public --change-interface=ens192',
      'firewall-cmd --permanent --new-policy=icbd-nat',
      'firewall-cmd --permanent --policy=icbd-nat --add-ingress-zone=internal',
      'firewall-cmd --permanent --policy=icbd-nat --add-egress-zone=public',
      'firewall-cmd --permanent --policy=icbd-nat --set-target=ACCEPT',
      'firewall-cmd --reload',
    ]);
    expect(notices(plan, 'firewall')).toEqual(['warning: This firewalld has no service tftp-client; it is left out.']);
  });

  it("imgs firewalld before 0.9 (CentOS 7, iptables): the guide's direct rules are all the forwarding needs, no policy", () => {
    const plan = planInstall(pristine('centos7'), input('imgs', { confirmDisk: 'vdb' }));
    expect(commands(plan, 'firewall').filter((c) => /policy|change-interface=ens192/.test(c))).toEqual([]);
    expect(commands(plan, 'firewall').at(-1)).toBe('firewall-cmd --reload');
  });

  it('imgs firewalld 1.x with the outside interface already named in a zone and a partial policy: only what is missing', () => {
    const s = pristine('rocky9');
    s.firewall = { ...s.firewall!, extZone: 'external', policy: { target: 'CONTINUE', ingress: ['internal'], egress: [] } };
    expect(commands(planInstall(s, input('imgs', { confirmDisk: 'vdb' })), 'firewall').filter((c) => /policy|change-interface=ens192/.test(c))).toEqual([
      'firewall-cmd --permanent --policy=icbd-nat --add-egress-zone=external',
      'firewall-cmd --permanent --policy=icbd-nat --set-target=ACCEPT',
    ]);
  });

  it('a stopped firewalld is started first', () => {
    const s = pristine('rocky9');
    s.firewall = { ...s.firewall!, running: false };
    expect(commands(planInstall(s, input('imgs', { confirmDisk: 'vdb' })), 'firewall')[0]).toBe('systemctl enable --now firewalld');
  });
});

describe('rendering', () => {
  it('every planned command goes through shared/shell.ts quoting', () => {
    const plan = planInstall(pristine('debian'), input('home', { confirmDisk: 'vdb' }));
    const lib = plan.steps.find((x) => x.id === 'lib')!.changes.find((c) => c.kind === 'command' && c.argv[0] === 'mount');
    expect(lib?.kind === 'command' && command(lib.argv)).toBe("mount -o 'subvolid=5' 'UUID=UUID-OF-THE-NEW-FILESYSTEM' /run/icbd-install/top");
  });
});

describe('preflight', () => {
  it('warns on the reflink kernel and a skewed clock; blocks no root, no btrfs, unknown systems', () => {
    const s = pristine('centos7');
    Object.assign(s, { kernel: '3.10.0-693.5.2.el7.x86_64', clockSkew: -42, uid: 1000, btrfsInKernel: false });
    const n = notices(planInstall(s, input('imgs', { confirmDisk: 'vdb' })), 'preflight');
    expect(n).toEqual(expect.arrayContaining([expect.stringMatching(/^warning: Kernel 3\.10\.0-693\.5\.2.*reflink/), expect.stringMatching(/^warning: The host's clock is -42 s off/), expect.stringMatching(/^blocker: The installer needs root/), expect.stringMatching(/^blocker: The kernel .* has no btrfs/)]));
    const fedora = { ...pristine('debian'), osRelease: 'ID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"\n' };
    const plan = planInstall(fedora, input('imgs'));
    expect(plan.steps.map((x) => x.id)).toEqual(['preflight']);
    expect(plan.blockers[0]?.message).toMatch(/^Fedora Linux 40 is not supported/);
  });

  it('a disk with a filesystem is refused even when typed', () => {
    const s = pristine('debian');
    s.devices[2] = { ...s.devices[2]!, fstype: 'xfs' };
    expect(planInstall(s, input('home', { confirmDisk: '/dev/vdb' })).blockers).toEqual([
      { step: 'disk', message: '/dev/vdb is not formatted: it holds a xfs signature.' },
    ]);
    expect(planInstall(s, input('home', { confirmDisk: '/dev/vda' })).blockers[0]?.message).toMatch(/^\/dev\/vda is not formatted: it has partitions; it has a partition table \(dos\)/);
  });

  it('a unit missing although its package is installed is a blocker, not a silent skip', () => {
    const s = installed('debian', 'home', 'debian');
    delete s.units['nfs-server'];
    expect(planInstall(s, input('home')).blockers).toEqual([{ step: 'services', message: 'The unit nfs-server (nfs-server in the guide) does not exist on this host although nfs-kernel-server is installed.' }]);
  });
});
