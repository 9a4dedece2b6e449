import { FS_LABEL } from '../../../shared/roles.ts';
import type { BlockDevice, HostState } from './state.ts';

/**
 * Which disk may become the iCBD filesystem. Only a whole, writable, empty disk qualifies: no
 * partitions, no filesystem or other signature, no partition table, not mounted. mkfs.btrfs runs
 * without -f, so it refuses a signature on its own as well (the last guard when lsblk cannot
 * report PTTYPE, as on CentOS 7).
 */

const WHOLE = new Set(['disk', 'loop']);

export function diskProblems(dev: BlockDevice, all: readonly BlockDevice[]): string[] {
  const problems: string[] = [];
  if (!WHOLE.has(dev.type)) problems.push(`it is a ${dev.type || 'device'}, not a whole disk`);
  if (dev.ro) problems.push('it is read-only');
  if (dev.size === 0) problems.push('it has no size (an unattached loop device?)');
  if (dev.nodes.length === 0) problems.push('it has no device node in /dev');
  const children = all.filter((d) => d.pkname === dev.kname);
  if (children.some((c) => c.type === 'part')) problems.push('it has partitions');
  else if (children.length > 0) problems.push(`it is in use by ${children.map((c) => c.name).join(', ')}`);
  if (dev.pttype) problems.push(`it has a partition table (${dev.pttype})`);
  if (dev.fstype) problems.push(`it holds a ${dev.fstype} signature`);
  const mounted = [dev, ...children].filter((d) => d.mountpoint);
  if (mounted.length > 0) problems.push(`it is mounted (${mounted.map((d) => d.mountpoint).join(', ')})`);
  return problems;
}

export function diskCandidates(s: HostState): BlockDevice[] {
  return s.devices.filter((d) => diskProblems(d, s.devices).length === 0);
}

/** The device the operator typed: /dev/sdb, sdb, or another node of the same disk (/dev/vdb in the lab). */
export function findDisk(s: HostState, typed: string): BlockDevice | undefined {
  const path = typed.startsWith('/dev/') ? typed : `/dev/${typed}`;
  return s.devices.find((d) => d.nodes.includes(path) || `/dev/${d.kname}` === path);
}

/** The node to hand to mkfs: the one the operator typed when it exists. */
export function diskNode(d: BlockDevice, typed: string): string {
  const path = typed.startsWith('/dev/') ? typed : `/dev/${typed}`;
  return d.nodes.includes(path) ? path : (d.nodes[0] ?? path);
}

/**
 * The iCBD filesystem: the one mounted on /var/lib as subvol Lib (also when made by hand from
 * the guide), else the one labelled by our mkfs. Undefined until mkfs has run.
 */
export function icbdFilesystem(s: HostState): { uuid: string } | { conflict: string } | undefined {
  const lib = s.mounts.findLast((m) => m.target === '/var/lib');
  if (lib?.fstype === 'btrfs' && lib.fsroot === '/Lib' && lib.uuid) return { uuid: lib.uuid };
  const labelled = [...new Set(s.devices.filter((d) => d.fstype === 'btrfs' && d.label === FS_LABEL).map((d) => d.uuid))];
  if (labelled.length > 1) return { conflict: `${labelled.length} btrfs filesystems are labelled ${FS_LABEL}; keep one.` };
  return labelled[0] ? { uuid: labelled[0] } : undefined;
}
