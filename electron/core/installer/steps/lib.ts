import { editFstab, hasEntry } from '../../../../shared/fstab.ts';
import { LIB_MOUNT, LIB_SUBVOLUME, mountEntry, VAR_LIB } from '../../../../shared/roles.ts';
import { cmd, fileChange } from '../changes.ts';
import type { Change, PlanContext, Step } from '../step.ts';
import { mountAt, type HostState } from '../state.ts';

/** Where the filesystem's top level is mounted to make Lib; under /run so a reboot clears it. */
export const TOP = '/run/icbd-install/top';
/** Shown in plans until mkfs has made the filesystem. */
export const PENDING_UUID = 'UUID-OF-THE-NEW-FILESYSTEM';

export function libMounted(s: HostState, uuid: string | undefined): boolean {
  const m = mountAt(s, VAR_LIB);
  return m?.fstype === 'btrfs' && m.fsroot === `/${LIB_SUBVOLUME}` && m.uuid === uuid;
}

/**
 * Annex 2 "Mounting the base": /var/lib copied into the Lib subvolume and mounted over itself.
 * The order survives a stop anywhere: the copy is made as Lib.new and renamed when complete, and
 * Lib counts as committed only once it is mounted or in /etc/fstab. A Lib that is neither was
 * left by an interrupted run (after it, the host kept writing to the old /var/lib), so it is
 * deleted and copied again.
 */
export const lib: Step = {
  id: 'lib',
  title: '/var/lib on the Lib subvolume',
  plan: (ctx: PlanContext) => {
    const { state } = ctx;
    const uuid = ctx.uuid ?? PENDING_UUID;
    const entry = mountEntry(LIB_MOUNT, uuid, (p) => p);
    const before = state.files['/etc/fstab'] ?? '';
    const fstab = fileChange(`Add ${VAR_LIB} to /etc/fstab`, { path: '/etc/fstab', inPlace: false }, before, editFstab(before, [entry]), { fstab: true });
    const mount = cmd(`Mount Lib on ${VAR_LIB}`, ['mount', VAR_LIB], { undo: ['umount', VAR_LIB] });
    if (libMounted(state, ctx.uuid)) return { changes: fstab };
    if (hasEntry(before, entry)) return { changes: [mount] };
    const lib = `${TOP}/${LIB_SUBVOLUME}`;
    const changes: Change[] = [
      cmd('Make the temporary mount point', ['mkdir', '-p', TOP]),
      cmd('Mount the filesystem top level', ['mount', '-o', 'subvolid=5', `UUID=${uuid}`, TOP], { unless: ['mountpoint', '-q', TOP] }),
      cmd('Delete a Lib an interrupted run left unused', ['btrfs', 'subvolume', 'delete', lib], { onlyIf: ['test', '-e', lib] }),
      cmd('Delete a partial copy an interrupted run left', ['btrfs', 'subvolume', 'delete', `${lib}.new`], { onlyIf: ['test', '-e', `${lib}.new`] }),
      cmd('Create the Lib subvolume (as Lib.new until the copy is complete)', ['btrfs', 'subvolume', 'create', `${lib}.new`]),
      cmd(`Copy ${VAR_LIB} with owners, modes, links, ACLs and xattrs`, ['cp', '-a', `${VAR_LIB}/.`, `${lib}.new/`]),
      cmd('Rename the complete copy to Lib', ['mv', '-T', `${lib}.new`, lib]),
      ...fstab,
      mount,
      cmd('Unmount the top level', ['umount', TOP]),
    ];
    return {
      changes,
      notices: [{ level: 'warning', message: `Running services keep files open in the old ${VAR_LIB}: reboot when the install is done, as the guide does.` }],
    };
  },
};
