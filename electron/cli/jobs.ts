import { AppError } from '../../shared/errors.ts';
import type { JobLog } from '../../shared/jobs.ts';
import type { Core } from '../core/core.ts';
import { cancelOnInterrupt } from './interrupt.ts';
import { fit, showsProgress } from './output.ts';

/**
 * Follows a job to its end: a person at a terminal sees its progress in one line rewritten on
 * stderr (none when quiet), its own log lines on stdout, a remote command's output as it came; a
 * script gets the log and the result alone; `onLog` takes the log instead (to print it as JSON).
 * Ctrl-C cancels the job, waits for its clean-up and exits 130.
 */
export async function followJob(core: Core, jobId: string, { quiet = false, onLog }: { quiet?: boolean; onLog?: (log: JobLog) => void } = {}): Promise<void> {
  const live = !quiet && showsProgress();
  let lastMessage = '';
  const offUpdate = core.on('job.update', (job) => {
    if (job.id !== jobId || !live || !job.message || job.message === lastMessage) return;
    lastMessage = job.message;
    const pct = job.progress === undefined ? '' : `${Math.round(job.progress * 100)}% `.padStart(5);
    process.stderr.write(`\r${fit(`${pct}${job.message}`)}\x1b[K`);
  });
  const offLog = core.on('job.log', (log) => {
    if (log.id !== jobId) return;
    if (onLog) return onLog(log);
    if (lastMessage) process.stderr.write('\r\x1b[K');
    lastMessage = '';
    if (log.stream === 'info') process.stdout.write(`${log.line}\n`);
    else (log.stream === 'stderr' ? process.stderr : process.stdout).write(log.line);
  });
  const title = core.jobs.list().find((j) => j.id === jobId)?.title ?? 'the job';
  try {
    const end = await cancelOnInterrupt(() => core.jobs.wait(jobId), {
      what: title,
      cancel: () => core.jobs.cancel(jobId),
      done: () => `interrupted: ${title} cancelled; what it had started is cleaned up.`,
    });
    if (lastMessage) process.stderr.write('\r\x1b[K');
    if (end.state !== 'done') {
      const error = end.error ?? { code: 'CANCELLED' as const, message: `${end.title}: ${end.state}.` };
      throw new AppError(error.code, error.message, error.detail);
    }
  } finally {
    offUpdate();
    offLog();
  }
}
