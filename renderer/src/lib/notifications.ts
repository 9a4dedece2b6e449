import { isFinished, type JobInfo } from '../../../shared/jobs.ts';
import { isTransferFinished, transferSubject, type TransferRecord } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';
import { api } from './api.ts';

/** Jobs that take minutes: the operator has likely gone to another window meanwhile. */
const LONG_JOBS = new Set(['install.apply', 'install.reboot', 'install.trust', 'lab.up', 'lab.down']);

export interface NotifyEnv {
  Notification: typeof Notification | undefined;
  focused(): boolean;
}

const browserEnv: NotifyEnv = { Notification: globalThis.Notification, focused: () => document.hasFocus() };

/**
 * A desktop notification when a long job (install, lab) or a transfer (push, sync, upload) ends
 * or fails while the window is not focused; a cancel is the operator's own doing and says
 * nothing. The Web Notification API works alike in the Electron window and in browser mode; its
 * permission is asked when the first such job starts, just after the click that started it.
 */
export function notifyEndsWhileAway(env: NotifyEnv = browserEnv): () => void {
  const running = new Set<string>();

  const seen = (id: string, finished: boolean, title: () => string, body: () => string) => {
    const N = env.Notification;
    if (!N) return;
    if (!finished) {
      if (!running.size && N.permission === 'default') void N.requestPermission();
      running.add(id);
      return;
    }
    // Only an end this window saw coming: not the history loaded after a reload.
    if (!running.delete(id) || env.focused() || N.permission !== 'granted') return;
    const n = new N(title(), { body: body(), tag: id });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  };

  const offJobs = api.on('job.update', (job: JobInfo) => {
    if (!LONG_JOBS.has(job.kind) || job.state === 'cancelled') return running.delete(job.id);
    seen(
      job.id,
      isFinished(job.state),
      () => (job.state === 'done' ? `Done: ${job.title}` : `Failed: ${job.title}`),
      () => (job.state === 'done' ? (job.message ?? 'Finished.') : (job.error?.message ?? job.message ?? 'See the log in the window.')),
    );
  });
  const offTransfers = api.on('transfer.update', (r: TransferRecord) => {
    if (r.state === 'cancelled') return running.delete(r.id);
    const what = `${r.operation === 'push' ? 'Transfer' : 'Upload'} ${transferSubject(r)} → ${r.targets.map((t) => t.node).join(', ')}`;
    seen(
      r.id,
      isTransferFinished(r.state),
      () => (r.state === 'done' ? `Done: ${what}` : `Failed: ${what}`),
      () => (r.state === 'done' ? `${formatBytes(r.bytes)} sent.` : (r.error?.message ?? 'See its log in the Transfers view.')),
    );
  });
  return () => {
    offJobs();
    offTransfers();
  };
}
