import type { JobInfo, JobLog } from '../../../shared/jobs.ts';
import { api } from './api.ts';

const MAX_LOG_LINES = 500;

/**
 * Every job the core announces, with its log, as views show them. Events arrive about once a
 * step or once a second (never per chunk of data), so keeping them in $state is cheap.
 */
class JobTracker {
  jobs = $state.raw<Record<string, JobInfo>>({});
  logs = $state.raw<Record<string, JobLog[]>>({});

  /** A job learnt of by asking (jobs.list) rather than by an event, e.g. after a reload. */
  track(job: JobInfo): void {
    if (!this.jobs[job.id]) this.jobs = { ...this.jobs, [job.id]: job };
  }

  follow(): () => void {
    const offUpdate = api.on('job.update', (job) => {
      this.jobs = { ...this.jobs, [job.id]: job };
    });
    const offLog = api.on('job.log', (line) => {
      const lines = [...(this.logs[line.id] ?? []), line].slice(-MAX_LOG_LINES);
      this.logs = { ...this.logs, [line.id]: lines };
    });
    return () => {
      offUpdate();
      offLog();
    };
  }
}

export const jobTracker = new JobTracker();
