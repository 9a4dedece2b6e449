import { cmd } from '../changes.ts';
import type { Change, Notice, Step } from '../step.ts';
import { isSubvolume, mountAt } from '../state.ts';
import { libMounted } from './lib.ts';

/**
 * The role's subvolumes and directories, exactly the guide's lists (shared/roles.ts). A seeded
 * subvolume (rw's Home, mounted over /home) is filled before it gets its name, like Lib.
 */
export const layout: Step = {
  id: 'layout',
  title: 'Subvolumes',
  plan: ({ state, spec, uuid }) => {
    const changes: Change[] = [];
    const notices: Notice[] = [];
    const mounted = libMounted(state, uuid);
    for (const item of spec.layout) {
      const info = mounted ? state.paths[item.path] : undefined;
      if (item.kind === 'dir') {
        if (info?.kind !== 'directory') changes.push(cmd(`Create the directory ${item.path}`, ['mkdir', '-p', item.path]));
        continue;
      }
      // an NFS mount over it (the cache's nfs_home) hides the subvolume it was mounted on
      if (mounted && (isSubvolume(state, item.path) || mountAt(state, item.path))) continue;
      if (info) {
        notices.push({ level: 'blocker', message: `${item.path} exists but is not a subvolume; move it away and run again.` });
        continue;
      }
      if (!item.seedFrom) {
        changes.push(cmd(`Create the subvolume ${item.path}`, ['btrfs', 'subvolume', 'create', item.path]));
        continue;
      }
      const tmp = `${item.path}.new`;
      changes.push(
        cmd('Delete a partial copy an interrupted run left', ['btrfs', 'subvolume', 'delete', tmp], { onlyIf: ['test', '-e', tmp] }),
        cmd(`Create the subvolume ${item.path} (as ${tmp} until it is filled)`, ['btrfs', 'subvolume', 'create', tmp]),
        cmd(`Copy ${item.seedFrom} into it, so mounting it there hides nothing`, ['cp', '-a', `${item.seedFrom}/.`, `${tmp}/`]),
        cmd(`Rename it to ${item.path}`, ['mv', '-T', tmp, item.path]),
      );
    }
    return { changes, notices };
  },
};
