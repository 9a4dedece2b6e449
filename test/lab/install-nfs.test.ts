/**
 * The installer's NFS lines for real: home and rw installed with their exports, the cache with
 * the guide's nfs4 lines, on the lab's NFS tier (rw, home and cache01 are qemu VMs with their own
 * kernel, as this machine's has no NFS; imgs stays a container). The cache's nfs4 lines name
 * their servers (home.icbd.local, data.icbd.local), so the hosts step must have put the names in
 * /etc/hosts before the mounts step mounts them, and the bind source that /etc/hosts becomes must
 * keep them: the mounts are there after the install, the names resolve through the bound file,
 * the audit shows that order, the final check plans nothing, and files written on the cache
 * land on the servers. Three VMs under software emulation take ≈ 5 minutes on a quiet two-core
 * machine (lab up ≈ 2, installs ≈ 3), which `npm test` can afford.
 */
import { describe, expect, it } from 'vitest';
import type { InstallPlanOut, InstallRequest } from '../../shared/install.ts';
import { installLabUp, LAB_PLATFORM } from './install-lab.ts';
import { labSession } from './session.ts';

const lab = labSession('install-nfs', (core, dir) => installLabUp(core, dir, { nfs: true }), { timeout: 1_200_000 });
// Three VMs under emulation: a command may wait a while for its turn.
const ssh = (host: string, command: string) => lab.ssh(host, command, 300_000);

const ROLE = { home: 'home', rw: 'rw', cache01: 'cache' } as const;
const request = (host: keyof typeof ROLE): InstallRequest => ({
  host,
  role: ROLE[host],
  platform: LAB_PLATFORM,
  nfs: true,
  confirmDisk: '/dev/vdb',
  ...(host === 'cache01' && { cache: { number: 1, clientSubnet: '10.213.101.0/24' } }),
});

async function install(host: keyof typeof ROLE): Promise<InstallPlanOut> {
  const { jobId } = await lab.core.call('install.apply', request(host));
  const end = await lab.core.jobs.wait(jobId);
  expect(end.error?.message).toBeUndefined();
  return end.result as InstallPlanOut;
}

// shared/roles.ts's CACHE_NFS_MOUNTS as findmnt prints them, and what they bring along: the
// rbinds that export nfs_home and nfs_root carry the NFS mounted on their source (it is mounted
// first, see fstab.ts `needs`), and the macs.d mount inside the /etc/tgt rbind shows at the bind's
// source too (systemd makes every mount shared, so a bind and its source propagate to each other).
const NFS_MOUNTS = [
  'data.icbd.local:/macs.d /etc/tgt/macs.d',
  'data.icbd.local:/macs.d /var/lib/icbd/mounts/etc/tgt/macs.d',
  'data.icbd.local:/rw /var/lib/icbd/exports/rw',
  'data.icbd.local:/rw /var/lib/icbd/rw',
  'home.icbd.local:/nfs_home /var/lib/icbd/exports/nfs_home',
  'home.icbd.local:/nfs_home /var/lib/icbd/nfs_home',
  'home.icbd.local:/nfs_root /var/lib/icbd/exports/nfs_root',
  'home.icbd.local:/nfs_root /var/lib/icbd/nfs_root',
];

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('installer, NFS lines on VMs', { timeout: 3_600_000 }, () => {
  it('installs home and rw with their exports, then the cache with its nfs4 lines mounted and writable', async () => {
    const t0 = Date.now();
    const servers = await Promise.all([install('home'), install('rw')]);
    expect(servers.map((p) => p.changes)).toEqual([0, 0]);
    expect(await ssh('home', 'systemctl is-active nfs-server')).toBe('active');
    expect(await ssh('rw', 'systemctl is-active nfs-server')).toBe('active');
    const tServers = Date.now();

    const cache = await install('cache01');
    expect(cache.changes).toBe(0);
    expect(cache.blockers).toEqual([]);
    const mounts = (await ssh('cache01', 'findmnt -rn -t nfs4 -o SOURCE,TARGET')).split('\n').sort();
    expect(mounts).toEqual(NFS_MOUNTS);
    expect(await ssh('cache01', 'findmnt -rn -o SOURCE /etc/hosts; getent hosts home.icbd.local data.icbd.local')).toMatch(
      /^\S*\/icbd\/mounts\/etc\/hosts\]\n10\.213\.2\.12\s+home\.icbd\.local\n10\.213\.2\.11\s+data\.icbd\.local$/,
    );
    const audit = (await lab.core.call('audit.list', { host: 'cache01', limit: 1000 })).reverse();
    expect(audit.filter((e) => e.result === 'failed')).toEqual([]);
    const names = audit.findIndex((e) => e.step === 'hosts' && e.path === '/etc/hosts' && e.result === 'ok' && e.diff?.includes('+10.213.2.11\tdata.icbd.local'));
    const copy = audit.findIndex((e) => e.step === 'mounts' && e.command === 'cp -a -- /etc/hosts /var/lib/icbd/mounts/etc/hosts.icbd-new');
    const nfs = audit.findIndex((e) => e.step === 'mounts' && e.command === 'mount /var/lib/icbd/nfs_home' && e.result === 'ok');
    expect([names >= 0, names < copy, copy < nfs]).toEqual([true, true, true]);
    await ssh('cache01', 'for d in nfs_home nfs_root rw; do echo from-cache01 > /var/lib/icbd/$d/hello; done');
    expect(await ssh('home', 'cat /var/lib/icbd/exports/nfs_home/hello /var/lib/icbd/exports/nfs_root/hello')).toBe('from-cache01\nfrom-cache01');
    expect(await ssh('rw', 'cat /var/lib/icbd/rw/hello')).toBe('from-cache01');
    console.log(`servers ${((tServers - t0) / 1000).toFixed(0)} s, cache ${((Date.now() - tServers) / 1000).toFixed(0)} s`);
  });
});
