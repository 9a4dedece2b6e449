import type { InstallPlanOut } from '../../../../shared/install.ts';

/** For specs: a cache's plan with a destructive command, a file diff and notices. */
export const PLAN: InstallPlanOut = {
  host: 'cache01',
  role: 'cache',
  distribution: 'Debian GNU/Linux 12 (bookworm)',
  family: 'debian',
  blockers: [],
  changes: 2,
  steps: [
    { id: 'preflight', title: 'Preflight', destructive: false, changes: [], notices: [{ level: 'info', message: 'Debian GNU/Linux 12 (bookworm) (debian).' }] },
    { id: 'disk', title: 'Second disk (btrfs)', destructive: true, notices: [], changes: [{ kind: 'command', summary: 'Format /dev/vdb as btrfs labelled icbd (erases the disk)', argv: ['mkfs.btrfs', '-L', 'icbd', '/dev/vdb'] }] },
    {
      id: 'mounts',
      title: 'Mounts (/etc/fstab)',
      destructive: false,
      notices: [{ level: 'warning', message: "The cache's nfs4 lines are left out (no NFS client on this host)." }],
      changes: [
        {
          kind: 'file',
          summary: "Write the role's lines to /etc/fstab",
          path: '/etc/fstab',
          before: '# fstab\n',
          after: '# fstab\nUUID=x\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n',
          diff: '--- a/etc/fstab\n+++ b/etc/fstab\n@@ -1 +1,2 @@\n # fstab\n+UUID=x\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n',
          inPlace: false,
          fstab: true,
        },
      ],
    },
  ],
};
