/**
 * Whether a process still exists: how a record left "running" by a process that died (the app
 * closed mid-install, a CLI killed mid-transfer) is told from one still at work. EPERM means it
 * exists under another user.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
