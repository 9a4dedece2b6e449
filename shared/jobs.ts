import { z } from 'zod';
import { ERROR_CODES } from './errors.ts';

/**
 * A long operation (lab start, install step, transfer) is a job: the request that starts it
 * returns its id at once; its progress, log lines and end arrive as events; `jobs.cancel` stops it.
 */
export const jobId = z.string().regex(/^[a-z0-9-]{8,64}$/, 'A job id is lowercase letters, digits and "-".');

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export const jobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof jobState>;

export const wireError = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  detail: z.unknown().optional(),
});

export const jobInfo = z.object({
  id: jobId,
  kind: z.string(),
  title: z.string(),
  state: jobState,
  /** 0..1 when the job knows how far it is; absent when it cannot tell. */
  progress: z.number().min(0).max(1).optional(),
  message: z.string().optional(),
  error: wireError.optional(),
  /** What a finished job produced, when it produces something (an exit code, a list). */
  result: z.unknown().optional(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
});
export type JobInfo = z.infer<typeof jobInfo>;

/** `info` entries are lines of the job's own; `stdout`/`stderr` carry a remote command's output as it came, newlines included. */
export const jobLog = z.object({
  id: jobId,
  stream: z.enum(['info', 'stdout', 'stderr']),
  line: z.string(),
  at: z.number(),
});
export type JobLog = z.infer<typeof jobLog>;

export const jobStarted = z.object({ jobId });

export function isFinished(state: JobState): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled';
}
