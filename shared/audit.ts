import { z } from 'zod';
import { hostName } from './names.ts';

/**
 * One change made to a host, as the audit log keeps it: who, where, what exactly (the command as
 * run, or the file's diff), and how it ended. Secrets never appear here: callers pass commands
 * and diffs, never credentials.
 */
export const auditEntry = z.object({
  at: z.string(),
  actor: z.string(),
  door: z.enum(['electron', 'browser', 'cli']),
  host: hostName,
  action: z.string(),
  /** The installation step it belongs to (installer entries). */
  step: z.string().optional(),
  command: z.string().optional(),
  /** The file written, with its diff and the copy of the old content kept beside it. */
  path: z.string().optional(),
  diff: z.string().optional(),
  backup: z.string().optional(),
  /** skipped: its guard found nothing to do; undone: taken back after a later change failed. */
  result: z.enum(['ok', 'failed', 'cancelled', 'skipped', 'undone']),
  /** A command's exit status on the host (an operator's command run). */
  exitCode: z.number().int().optional(),
  /** The login a terminal session or command ran as. */
  user: z.string().optional(),
  detail: z.string().optional(),
  ms: z.number().optional(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditQuery = z
  .object({
    host: hostName.optional(),
    since: z.iso.datetime({ offset: true, message: 'since is an ISO 8601 time, e.g. 2026-11-26T09:00:00Z.' }).optional(),
    until: z.iso.datetime({ offset: true, message: 'until is an ISO 8601 time, e.g. 2026-11-26T18:00:00Z.' }).optional(),
    limit: z.number().int().min(1).max(10_000).default(500),
  })
  .strict();
