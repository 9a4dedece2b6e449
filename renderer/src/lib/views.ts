/** The console's views, in navigation order; Ctrl/Cmd+1..7 follow this order. */
export const VIEWS = [
  { id: 'overview', label: 'Overview' },
  { id: 'hosts', label: 'Hosts' },
  { id: 'install', label: 'Install' },
  { id: 'snapshots', label: 'Snapshots' },
  { id: 'transfers', label: 'Transfers' },
  { id: 'terminal', label: 'Terminal' },
  { id: 'audit', label: 'Audit' },
  // Last, so the shortcuts of the views before it stay what operators learned.
  { id: 'schedules', label: 'Schedules' },
] as const satisfies readonly { id: string; label: string }[];

export type View = (typeof VIEWS)[number];
export type ViewId = View['id'];

export const DEFAULT_VIEW: ViewId = 'overview';
