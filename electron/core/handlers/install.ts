import type { Jobs } from '../jobs/jobs.ts';
import type { InstallService } from '../installer/service.ts';
import type { Handlers } from './types.ts';

type InstallNames = 'install.plan' | 'install.apply' | 'install.reboot' | 'install.state' | 'install.remember' | 'install.disks' | 'install.planTrust' | 'install.trust';

export function installHandlers(jobs: Jobs, service: InstallService): Handlers<InstallNames> {
  return {
    'install.plan': (r) => service.plan(r),
    'install.apply': async (r) => {
      await service.ensureIdle(r.host);
      const job = jobs.start('install.apply', `Install ${r.role} on ${r.host}`, (ctx) => service.apply(r, ctx));
      return { jobId: job.id };
    },
    'install.reboot': async (r) => {
      await service.ensureIdle(r.host);
      const job = jobs.start('install.reboot', `Reboot ${r.host} and verify`, (ctx) => service.reboot(r, ctx));
      return { jobId: job.id };
    },
    'install.state': ({ host }) => service.state(host),
    'install.remember': ({ host, settings, stage }) => service.remember(host, { ...(settings && { settings }), ...(stage && { stage }) }),
    'install.disks': ({ host }) => service.disks(host),
    'install.planTrust': () => service.planTrust(),
    'install.trust': async () => {
      await service.ensureTrustIdle();
      return { jobId: jobs.start('install.trust', 'Set up SSH trust between the nodes', (ctx) => service.trust(ctx)).id };
    },
  };
}
