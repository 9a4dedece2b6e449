import fs from 'node:fs';
import { SLOT_ROOT } from './paths.ts';

const INOTIFY_INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
const SAVED = `${SLOT_ROOT}.inotify-max-user-instances`;
const WANTED = 1024;

/**
 * Every booted systemd holds a couple of dozen inotify instances, all counted against root, and
 * the kernel's default of 128 per user runs out with a few labs up: hosts then boot "degraded"
 * with path units failed (seen: systemd-ask-password-wall.path). The limit is raised while any lab
 * is up and the machine's own value is put back when the last one goes down.
 */
export function raiseInotifyLimit(): void {
  const current = Number(fs.readFileSync(INOTIFY_INSTANCES, 'utf8'));
  if (current >= WANTED) return;
  if (!fs.existsSync(SAVED)) fs.writeFileSync(SAVED, String(current));
  fs.writeFileSync(INOTIFY_INSTANCES, String(WANTED));
}

/** Called once no lab holds a slot any more. */
export function restoreInotifyLimit(): void {
  let saved: string;
  try {
    saved = fs.readFileSync(SAVED, 'utf8').trim();
  } catch {
    return;
  }
  if (/^\d+$/.test(saved)) fs.writeFileSync(INOTIFY_INSTANCES, saved);
  fs.rmSync(SAVED, { force: true });
}
