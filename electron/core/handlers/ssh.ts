import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors.ts';
import type { EventAsker } from '../prompts.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { HealthMonitor } from '../ssh/health.ts';
import { proposeHostsFromSshConfig } from '../ssh/config-import.ts';
import { readSshConfig, type ConfigLine } from '../ssh/ssh-config.ts';
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
      const job = d.jobs.start('ssh.exec', `${host}: ${command}`, async (ctx) =>
        pool.exec(
          host,
          { operatorCommand: command },
          {
            signal: ctx.signal,
            ...(timeoutMs !== undefined && { timeoutMs }),
            onStdout: (b) => ctx.log(b.toString('utf8'), 'stdout'),
            onStderr: (b) => ctx.log(b.toString('utf8'), 'stderr'),
          },
        ),
      );
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
    'hosts.proposeFromSshConfig': async ({ path }) => {
      const home = homedir();
      const file = path ?? join(home, '.ssh', 'config');
      let config: ConfigLine[];
      try {
        config = readSshConfig(file, home);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code) throw new AppError('NOT_FOUND', `Cannot read ${(err as NodeJS.ErrnoException).path ?? file} (${code}).`);
        throw new AppError('INVALID_INPUT', (err as Error).message);
      }
      return proposeHostsFromSshConfig(config, { localUser: userInfo().username, home });
    },
  };
}
