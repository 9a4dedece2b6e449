import { AppError } from '../../shared/errors.ts';
import type { Core } from '../core/core.ts';

/**
 * Follows a job to its end: progress on stderr (one rewritten line on a terminal, a line per step
 * otherwise; none when quiet), its own log lines on stdout, a remote command's output as it
 * came; Ctrl-C cancels the job and waits for its clean-up.
 */
export async function followJob(core: Core, jobId: string, { quiet = false } = {}): Promise<void> {
  const tty = process.stderr.isTTY;
  let lastMessage = '';
  const offUpdate = core.on('job.update', (job) => {
    if (job.id !== jobId || quiet || !job.message || job.message === lastMessage) return;
    lastMessage = job.message;
    const pct = job.progress === undefined ? '' : `${Math.round(job.progress * 100)}% `.padStart(5);
    if (tty) process.stderr.write(`\r\x1b[K${pct}${job.message}`);
    else process.stderr.write(`${pct}${job.message}\n`);
  });
  const offLog = core.on('job.log', (log) => {
    if (log.id !== jobId) return;
    if (tty && lastMessage) process.stderr.write('\r\x1b[K');
    lastMessage = '';
    if (log.stream === 'info') process.stdout.write(`${log.line}\n`);
    else (log.stream === 'stderr' ? process.stderr : process.stdout).write(log.line);
  });
  const onSigint = () => {
    process.stderr.write('\nCancelling (cleaning up first)...\n');
    core.jobs.cancel(jobId);
  };
  process.on('SIGINT', onSigint);
  try {
    const end = await core.jobs.wait(jobId);
    if (tty && lastMessage) process.stderr.write('\n');
    if (end.state !== 'done') {
      const error = end.error ?? { code: 'CANCELLED' as const, message: `${end.title}: ${end.state}.` };
      throw new AppError(error.code, error.message, error.detail);
    }
  } finally {
    offUpdate();
    offLog();
    process.off('SIGINT', onSigint);
  }
}
