import { FS_LABEL } from '../../../../shared/roles.ts';
import { cmd } from '../changes.ts';
import { diskCandidates, diskNode, diskProblems, findDisk, icbdFilesystem } from '../disks.ts';
import type { Step } from '../step.ts';

/** Annex 2 "Format a second hard drive with BTRFS", refused on anything but an empty disk the operator named. */
export const disk: Step = {
  id: 'disk',
  title: 'Second disk (btrfs)',
  destructive: true,
  plan: ({ state, input }) => {
    const fs = icbdFilesystem(state);
    if (fs && 'conflict' in fs) return { changes: [], notices: [{ level: 'blocker', message: fs.conflict }] };
    if (fs) return { changes: [], notices: [{ level: 'info', message: `The iCBD filesystem is UUID=${fs.uuid}.` }] };
    const offer = diskCandidates(state)
      .map((d) => `${d.nodes.join(' or ')} (${Math.round(d.size / 2 ** 30)} GiB)`)
      .join(', ');
    if (!input.confirmDisk) {
      return {
        changes: [],
        notices: [{ level: 'blocker', message: offer ? `Type the disk to format to confirm: ${offer}.` : 'No empty disk: add a disk with no partitions, signature or mount.' }],
      };
    }
    const dev = findDisk(state, input.confirmDisk);
    if (!dev) return { changes: [], notices: [{ level: 'blocker', message: `There is no disk ${input.confirmDisk}${offer ? `; empty disks: ${offer}` : ''}.` }] };
    const problems = diskProblems(dev, state.devices);
    const node = diskNode(dev, input.confirmDisk);
    if (problems.length > 0) return { changes: [], notices: [{ level: 'blocker', message: `${node} is not formatted: ${problems.join('; ')}.` }] };
    // no -f: mkfs.btrfs itself refuses a device with any signature left
    return { changes: [cmd(`Format ${node} as btrfs labelled ${FS_LABEL} (erases the disk)`, ['mkfs.btrfs', '-L', FS_LABEL, node])] };
  },
};
