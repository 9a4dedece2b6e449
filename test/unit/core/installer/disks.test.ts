import { describe, expect, it } from 'vitest';
import { diskCandidates, diskProblems, findDisk, icbdFilesystem } from '../../../../electron/core/installer/disks.ts';
import { parseDevices, parseMounts } from '../../../../electron/core/installer/state.ts';
import { pristine } from '../../../fixtures/installer.ts';

// `lsblk -P -b -o NAME,KNAME,PKNAME,TYPE,SIZE,RO,FSTYPE,LABEL,UUID,PTTYPE,MOUNTPOINT,MAJ:MIN` on a VM
// with: sda (root, partitioned), sdb (empty), sdc (btrfs left on it), sdd (empty GPT), sde (a
// mounted ext4), sdf (LVM member), sr0, an unattached loop, and the lab's loop3 bound as /dev/vdb.
const LSBLK = `NAME="sda" KNAME="sda" PKNAME="" TYPE="disk" SIZE="17179869184" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="dos" MOUNTPOINT="" MAJ:MIN="8:0"
NAME="sda1" KNAME="sda1" PKNAME="sda" TYPE="part" SIZE="17178820608" RO="0" FSTYPE="xfs" LABEL="" UUID="0a1b" PTTYPE="dos" MOUNTPOINT="/" MAJ:MIN="8:1"
NAME="sdb" KNAME="sdb" PKNAME="" TYPE="disk" SIZE="644245094400" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ:MIN="8:16"
NAME="sdc" KNAME="sdc" PKNAME="" TYPE="disk" SIZE="644245094400" RO="0" FSTYPE="btrfs" LABEL="old" UUID="9e9e" PTTYPE="" MOUNTPOINT="" MAJ:MIN="8:32"
NAME="sdd" KNAME="sdd" PKNAME="" TYPE="disk" SIZE="644245094400" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="gpt" MOUNTPOINT="" MAJ:MIN="8:48"
NAME="sde" KNAME="sde" PKNAME="" TYPE="disk" SIZE="1073741824" RO="0" FSTYPE="ext4" LABEL="" UUID="7a7a" PTTYPE="" MOUNTPOINT="/mnt/x\\x20y" MAJ:MIN="8:64"
NAME="sdf" KNAME="sdf" PKNAME="" TYPE="disk" SIZE="1073741824" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ:MIN="8:80"
NAME="vg-data" KNAME="dm-0" PKNAME="sdf" TYPE="lvm" SIZE="1073741824" RO="0" FSTYPE="ext4" LABEL="" UUID="5b5b" PTTYPE="" MOUNTPOINT="/data" MAJ:MIN="253:0"
NAME="sr0" KNAME="sr0" PKNAME="" TYPE="rom" SIZE="1073741312" RO="1" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ:MIN="11:0"
NAME="loop0" KNAME="loop0" PKNAME="" TYPE="loop" SIZE="0" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ:MIN="7:0"
NAME="loop3" KNAME="loop3" PKNAME="" TYPE="loop" SIZE="4294967296" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ:MIN="7:3"
`;
// `find /dev -maxdepth 1 -type b -exec stat -c '%n %t %T' {} +` (hex major/minor); loop0 has no node
const DEVNODES = '/dev/sda 8 0\n/dev/sda1 8 1\n/dev/sdb 8 10\n/dev/sdc 8 20\n/dev/sdd 8 30\n/dev/sde 8 40\n/dev/sdf 8 50\n/dev/dm-0 fd 0\n/dev/sr0 b 0\n/dev/loop3 7 3\n/dev/vdb 7 3\n';

const devices = parseDevices(LSBLK, DEVNODES);
const state = { ...pristine('debian'), devices };
const why = (name: string) => diskProblems(devices.find((d) => d.name === name)!, devices);

describe('choosing the disk to format', () => {
  it('reads lsblk pairs, hex escapes and the device nodes of each disk', () => {
    expect(devices.find((d) => d.name === 'sde')?.mountpoint).toBe('/mnt/x y');
    expect(devices.find((d) => d.name === 'loop3')?.nodes).toEqual(['/dev/loop3', '/dev/vdb']);
    expect(devices.find((d) => d.name === 'sdb')).toMatchObject({ size: 644245094400, majMin: '8:16', nodes: ['/dev/sdb'] });
  });

  it('offers only whole, empty, unmounted disks', () => expect(diskCandidates(state).map((d) => d.name)).toEqual(['sdb', 'loop3']));

  it('refuses each kind of used disk, saying why', () => {
    expect(why('sda')).toEqual(['it has partitions', 'it has a partition table (dos)', 'it is mounted (/)']);
    expect(why('sdc')).toEqual(['it holds a btrfs signature']);
    expect(why('sdd')).toEqual(['it has a partition table (gpt)']);
    expect(why('sde')).toEqual(['it holds a ext4 signature', 'it is mounted (/mnt/x y)']);
    expect(why('sdf')).toEqual(['it is in use by vg-data', 'it is mounted (/data)']);
    expect(why('sda1')).toEqual(['it is a part, not a whole disk', 'it has a partition table (dos)', 'it holds a xfs signature', 'it is mounted (/)']);
    expect(why('sr0')).toEqual(['it is a rom, not a whole disk', 'it is read-only']);
    expect(why('loop0')).toEqual(['it has no size (an unattached loop device?)', 'it has no device node in /dev']);
  });

  it('finds the disk the operator typed by any of its names', () => {
    expect(findDisk(state, '/dev/vdb')?.name).toBe('loop3');
    expect(findDisk(state, 'sdb')?.name).toBe('sdb');
    expect(findDisk(state, '/dev/sdz')).toBeUndefined();
  });

  it('recognises the iCBD filesystem by its mount on /var/lib or by its label', () => {
    expect(icbdFilesystem(state)).toBeUndefined();
    const labelled = devices.map((d) => (d.name === 'sdb' ? { ...d, fstype: 'btrfs', label: 'icbd', uuid: 'u-1' } : d));
    expect(icbdFilesystem({ ...state, devices: labelled })).toEqual({ uuid: 'u-1' });
    const twice = labelled.map((d) => (d.name === 'sdc' ? { ...d, label: 'icbd', uuid: 'u-2' } : d));
    expect(icbdFilesystem({ ...state, devices: twice })).toHaveProperty('conflict');
    const mounts = parseMounts('TARGET="/var/lib" SOURCE="/dev/loop3[/Lib]" FSTYPE="btrfs" FSROOT="/Lib" OPTIONS="rw,relatime" UUID="u-9"\n');
    expect(mounts[0]!.source).toBe('/dev/loop3');
    expect(icbdFilesystem({ ...state, mounts })).toEqual({ uuid: 'u-9' });
  });
});
