/**
 * The console's views, in navigation order; Ctrl/Cmd+1..6 follow this order. A view with
 * `coming` is not built yet: the frame shows what will land there instead of an empty page.
 */
export const VIEWS = [
  { id: 'hosts', label: 'Hosts' },
  {
    id: 'install',
    label: 'Install',
    coming:
      'Installing and verifying the servers of each role step by step, as in the installation guide: disks, btrfs subvolumes, fstab, services and firewall. Every step shows its plan and exact commands before it runs.',
  },
  { id: 'snapshots', label: 'Snapshots' },
  { id: 'transfers', label: 'Transfers' },
  { id: 'terminal', label: 'Terminal' },
  {
    id: 'audit',
    label: 'Audit',
    coming: 'The log of every change made to a host: who made it, on which host, with which command, what changed and how it ended.',
  },
] as const satisfies readonly { id: string; label: string; coming?: string }[];

export type View = (typeof VIEWS)[number];
export type ViewId = View['id'];

export const DEFAULT_VIEW: ViewId = 'hosts';
