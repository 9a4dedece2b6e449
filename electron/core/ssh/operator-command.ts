import { AppError, toWire } from '../../../shared/errors.ts';
import type { AuditLog } from '../audit/log.ts';
import type { JobContext } from '../jobs/jobs.ts';
import type { SshPool } from './pool.ts';

export interface OperatorCommand {
  host: string;
  /** The inventory's user for the host, recorded beside the command. */
  user?: string;
  command: string;
  timeoutMs?: number;
}

/**
 * A command the operator typed (`icbd exec`, the window's Run), run on the host with its output as
 * the job's log. It is in the audit log however it ends; if the log cannot take it, the run fails
 * saying so, since an unaudited operator action is what the log exists to rule out.
 */
export async function runOperatorCommand(pool: SshPool, audit: Pick<AuditLog, 'append'>, run: OperatorCommand, ctx: JobContext) {
  const { host, user, command, timeoutMs } = run;
  const started = Date.now();
  const record = async (end: { result: 'ok' | 'failed' | 'cancelled'; exitCode?: number; detail?: string }) => {
    await audit.append({ host, action: 'exec', command, ...(user && { user }), ...end, ms: Date.now() - started }).catch((err: unknown) => {
      throw new AppError('INTERNAL', `The command ran (${end.exitCode !== undefined ? `exit ${end.exitCode}` : (end.detail ?? end.result)}) but the audit log could not be written: ${toWire(err).message}. Fix the data directory before running more.`);
    });
  };
  let r;
  try {
    r = await pool.exec(
      host,
      { operatorCommand: command },
      {
        signal: ctx.signal,
        ...(timeoutMs !== undefined && { timeoutMs }),
        onStdout: (b) => ctx.log(b.toString('utf8'), 'stdout'),
        onStderr: (b) => ctx.log(b.toString('utf8'), 'stderr'),
      },
    );
  } catch (err) {
    await record({ result: ctx.signal.aborted ? 'cancelled' : 'failed', detail: toWire(err).message });
    throw err;
  }
  await record({ result: r.code === 0 ? 'ok' : 'failed', ...(r.code !== null && { exitCode: r.code }), ...(r.signal && { detail: `killed by ${r.signal}` }) });
  return r;
}
