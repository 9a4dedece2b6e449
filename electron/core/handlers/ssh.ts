import { AppError, toWire } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { AuditLog } from '../audit/log.ts';
import type { EventAsker } from '../util/prompts.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { HealthMonitor } from '../ssh/health.ts';
import { proposeHostsFromFile } from '../ssh/config-import.ts';
import type { SshPool } from '../ssh/pool.ts';
import type { Handlers } from './types.ts';

type SshNames =
  | 'ssh.exec'
  | 'health.list'
  | 'health.check'
  | 'knownHosts.list'
  | 'knownHosts.forget'
  | 'secrets.status'
  | 'prompts.list'
  | 'prompts.answer'
  | 'hosts.proposeFromSshConfig';

export interface SshDeps {
  jobs: Jobs;
  audit: Pick<AuditLog, 'append'>;
  hosts(): Promise<Host[]>;
  pool(): Promise<SshPool>;
  health(): Promise<HealthMonitor>;
  /** Only the window and browser mode answer prompts through the contract; the CLI asks on its terminal. */
  asker?: EventAsker;
}

export function sshHandlers(d: SshDeps): Handlers<SshNames> {
  const asker = () => {
    if (!d.asker) throw new AppError('INVALID_INPUT', 'This door asks its questions itself; there is nothing to answer here.');
    return d.asker;
  };
  return {
    'ssh.exec': async ({ host, command, timeoutMs }) => {
      const pool = await d.pool();
      const user = (await d.hosts()).find((h) => h.name === host)?.user;
      const job = d.jobs.start('ssh.exec', `${host}: ${command}`, async (ctx) => {
        const started = Date.now();
        // An operator's command is in the audit log however it ends; if the log cannot take it, the run fails saying so.
        const audit = async (end: { result: 'ok' | 'failed' | 'cancelled'; exitCode?: number; detail?: string }) => {
          await d.audit.append({ host, action: 'exec', command, ...(user && { user }), ...end, ms: Date.now() - started }).catch((err: unknown) => {
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
          await audit({ result: ctx.signal.aborted ? 'cancelled' : 'failed', detail: toWire(err).message });
          throw err;
        }
        await audit({ result: r.code === 0 ? 'ok' : 'failed', ...(r.code !== null && { exitCode: r.code }), ...(r.signal && { detail: `killed by ${r.signal}` }) });
        return r;
      });
      return { jobId: job.id };
    },
    'health.list': async () => (await d.health()).snapshot(),
    'health.check': async ({ host }) => {
      const health = await d.health();
      await health.refresh(host);
      return health.snapshot().filter((h) => !host || h.host === host);
    },
    'knownHosts.list': async () => (await d.pool()).knownHosts.list(),
    'knownHosts.forget': async ({ address, port }) => ({ removed: await (await d.pool()).knownHosts.forget(address, port) }),
    'secrets.status': async () => (await d.pool()).secrets.status,
    'prompts.list': async () => asker().open(),
    'prompts.answer': async ({ id, accept, secret }) => {
      asker().answer(id, { ...(accept !== undefined && { accept }), ...(secret !== undefined && { secret }) });
      return { answered: id };
    },
    'hosts.proposeFromSshConfig': async ({ path }) => proposeHostsFromFile(path),
  };
}
