import { spawn } from 'node:child_process';
import type { ScheduleNotify, ScheduleRun } from '../../../shared/schedules.ts';

/** A notify command that does not end in this time is killed: a hung `mail` must not pile up. */
const NOTIFY_TIMEOUT_MS = 60_000;

export interface NotifyResult {
  ok: boolean;
  detail: string;
}

/**
 * Runs the operator's command with a scheduled run's outcome in its environment and its message
 * on stdin, the way cron mails a job's output: `mail -s "iCBD $ICBD_SCHEDULE: $ICBD_OUTCOME" root`.
 */
export function runNotify(notify: ScheduleNotify, name: string, run: ScheduleRun, home: string): Promise<NotifyResult> {
  const env = {
    ...process.env,
    ICBD_SCHEDULE: name,
    ICBD_OUTCOME: run.outcome,
    ICBD_MESSAGE: run.message,
    ICBD_REASON: run.reason,
    ICBD_STARTED: new Date(run.startedAt).toISOString(),
    ICBD_ENDED: new Date(run.endedAt ?? Date.now()).toISOString(),
    ICBD_TRANSFERS: run.transfers.join(' '),
    ICBD_HOME: home,
  };
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', notify.command], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), NOTIFY_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const why = signal ? `killed by ${signal}` : `exit ${code}`;
      resolve({ ok: code === 0, detail: `${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}` });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`Schedule ${name}: ${run.outcome}\n${run.message}\n`);
  });
}
