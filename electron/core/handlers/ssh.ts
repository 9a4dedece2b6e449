import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { AuditLog } from '../audit/log.ts';
import type { EventAsker } from '../util/prompts.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { HealthMonitor } from '../ssh/health.ts';
import { runOperatorCommand } from '../ssh/operator-command.ts';
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
      const run = { host, command, ...(user && { user }), ...(timeoutMs !== undefined && { timeoutMs }) };
      return { jobId: d.jobs.start('ssh.exec', `${host}: ${command}`, (ctx) => runOperatorCommand(pool, d.audit, run, ctx)).id };
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
