/**
 * The lab's NFS tier: the guide's nfs4 mounts of a cache node (home:/nfs_home, home:/nfs_root,
 * data:/rw) against real kernel NFS servers. This machine's kernel has neither NFS client nor
 * server, so home, rw and cache01 boot as qemu VMs on the lab's networks (software emulation:
 * a few minutes). ICBD_LAB_TESTS=skip leaves it out like the other lab tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labLeftovers, labPreflight, labStatus, labUp, sshRun, type LabInfo } from '../../electron/core/lab/index.ts';
import { tempDirs } from '../temp-dirs.ts';
import { labSsh } from './session.ts';

const dirs = tempDirs('nfs', ['lab']);
let info: LabInfo;

const ssh = (host: string, cmd: string) => labSsh(dirs.lab, host, cmd);

// Annex 2's start on a fresh VM: btrfs on the extra disk, its Lib subvolume mounted at /var/lib/icbd.
const LIB = `mkfs.btrfs -q -f /dev/vdb >/dev/null 2>&1
mkdir -p /mnt/top /var/lib/icbd
mount /dev/vdb /mnt/top
btrfs subvolume create /mnt/top/Lib >/dev/null
umount /mnt/top
echo "UUID=$(blkid -s UUID -o value /dev/vdb) /var/lib/icbd btrfs subvol=Lib 0 0" >> /etc/fstab
mount -a`;

// Then, reduced to what the NFS mounts need: subvolumes rbind-mounted under exports/, exported by
// the kernel's nfsd (NFSv4 root at exports/).
const server = (exports: string[]) => `set -e
${LIB}
mkdir -p /var/lib/icbd/exports
n=0
for v in ${exports.join(' ')}; do
  n=$((n+1))
  btrfs subvolume create /var/lib/icbd/$v >/dev/null
  mkdir -p /var/lib/icbd/exports/$v
  echo "/var/lib/icbd/$v /var/lib/icbd/exports/$v none rbind 0 0" >> /etc/fstab
  echo "/var/lib/icbd/exports/$v 10.213.2.0/24(rw,fsid=$n,no_subtree_check,no_root_squash)" >> /etc/exports
done
echo "/var/lib/icbd/exports 10.213.2.0/24(rw,fsid=0,no_subtree_check,no_root_squash,crossmnt)" >> /etc/exports
mount -a
systemctl enable --now --quiet nfs-server
systemctl is-active nfs-server`;

// the cache's fstab lines as the guide writes them (names from its /etc/hosts)
const client = `set -e
${LIB}
for v in nfs_home nfs_root rw; do btrfs subvolume create /var/lib/icbd/$v >/dev/null; done
printf '10.213.2.12 home.icbd.local\\n10.213.2.11 data.icbd.local\\n' >> /etc/hosts
cat >> /etc/fstab <<'FSTAB'
home.icbd.local:/nfs_home /var/lib/icbd/nfs_home nfs4    _netdev,rw 0 0
home.icbd.local:/nfs_root /var/lib/icbd/nfs_root nfs4    _netdev,rw 0 0
data.icbd.local:/rw      /var/lib/icbd/rw          nfs4    _netdev,rw    0 0
FSTAB
mount -a
echo from-cache01 > /var/lib/icbd/nfs_home/hello
echo from-cache01 > /var/lib/icbd/rw/hello
findmnt -n -t nfs4 -o SOURCE,TARGET`;

const NFS_MOUNTS = [
  'home.icbd.local:/nfs_home /var/lib/icbd/nfs_home',
  'home.icbd.local:/nfs_root /var/lib/icbd/nfs_root',
  'data.icbd.local:/rw       /var/lib/icbd/rw',
];

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('iCBD lab, NFS tier', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    const pre = await labPreflight({ nfs: true });
    if (!pre.ok) throw new Error(`lab preflight: ${pre.problems.map((p) => `${p.what} (${p.fix})`).join('; ')}`);
    info = await labUp({ dir: dirs.lab, nfs: true });
    console.log(`nfs lab up: ${JSON.stringify(info.timings)}`);
  }, 1_200_000);

  afterAll(async () => {
    await labDown({ dir: dirs.lab });
  }, 120_000);

  it('boots home, rw and cache01 as VMs with their own kernel, imgs as a container', async () => {
    expect(info.hosts.map((h) => `${h.name}:${h.kind}:${h.state}`)).toEqual(['imgs:nspawn:running', 'rw:qemu:running', 'home:qemu:running', 'cache01:qemu:running']);
    expect(await ssh('cache01', 'systemd-detect-virt; lsblk -dnb -o SIZE /dev/vdb')).toBe(`qemu\n${4 * 1024 ** 3}`);
  });

  it("mounts home's and rw's exports on the cache with the guide's nfs4 lines, also after a reboot", async () => {
    expect(await Promise.all([ssh('home', server(['nfs_home', 'nfs_root'])), ssh('rw', server(['rw']))])).toEqual(['active', 'active']);
    expect((await ssh('cache01', client)).split('\n').sort()).toEqual([...NFS_MOUNTS].sort());
    expect(await ssh('home', 'cat /var/lib/icbd/nfs_home/hello')).toBe('from-cache01');
    expect(await ssh('rw', 'cat /var/lib/icbd/rw/hello')).toBe('from-cache01');

    await ssh('cache01', 'touch /run/test-marker');
    await sshRun(dirs.lab, 'cache01', 'systemctl reboot', { timeoutMs: 10_000 });
    const deadline = Date.now() + 300_000;
    let after = '';
    while (Date.now() < deadline) {
      const r = await sshRun(dirs.lab, 'cache01', 'test ! -e /run/test-marker && systemctl is-system-running --wait && findmnt -n -t nfs4 -o SOURCE,TARGET', { connectTimeout: 3, timeoutMs: 120_000 });
      if (r.code === 0) {
        after = r.stdout.trim();
        break;
      }
      await new Promise((res) => setTimeout(res, 2000));
    }
    // the mounts come back in parallel, in any order
    const [verdict, ...mounts] = after.split('\n');
    expect(verdict).toBe('running');
    expect(mounts.sort()).toEqual([...NFS_MOUNTS].sort());
    expect(await ssh('cache01', 'cat /var/lib/icbd/nfs_home/hello')).toBe('from-cache01');
  });

  it('goes down without leaving VMs, taps, mounts or files behind', async () => {
    const slot = info.slot;
    await labDown({ dir: dirs.lab });
    expect(await labLeftovers(slot, dirs.lab)).toEqual([]);
    expect(await labStatus({ dir: dirs.lab })).toBeNull();
  });
});
