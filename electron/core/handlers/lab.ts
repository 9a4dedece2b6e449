import { AppError } from '../../../shared/errors.ts';
import type { InventoryStore } from '../inventory/store.ts';
import type { Jobs } from '../jobs/jobs.ts';
import { addLabHosts, trustLabHostKeys } from '../lab/inventory.ts';
import type { SshPool } from '../ssh/pool.ts';
import type { Handlers } from './types.ts';

// The lab pulls in its own modules; load them only when the operator asks for the lab.
const lab = () => import('../lab/index.ts');

/** Lab failures carry a fix; the operator sees both in one message. */
async function labCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const { LabError } = await lab();
    if (err instanceof LabError) throw new AppError('UNAVAILABLE', `${err.message}: ${err.fix}`);
    throw err;
  }
}

export function labHandlers(jobs: Jobs, inventory: InventoryStore, pool: () => Promise<SshPool>): Handlers<'lab.preflight' | 'lab.status' | 'lab.up' | 'lab.down' | 'lab.host' | 'lab.link' | 'lab.selftest'> {
  return {
    'lab.preflight': async () => (await lab()).labPreflight(),
    'lab.status': async () => {
      const info = await labCall(async () => (await lab()).labStatus());
      return info ? { ...info, hosts: info.hosts.map(({ name, role, address, port, user, jump, state, link }) => ({ name, role, address, port, user, jump, state, link })) } : null;
    },
    'lab.up': async ({ caches, nfs, addHosts, links }) => {
      const job = jobs.start('lab.up', 'Start the demo lab', async (ctx) => {
        const { labUp } = await lab();
        const info = await labCall(() =>
          labUp({ caches, nfs, links, signal: ctx.signal, onProgress: (p) => ctx.progress(p.fraction, p.message) }),
        );
        // The lab's budget figures (up from an empty cache, up with a cached base, per-host boot).
        for (const [what, ms] of Object.entries(info.timings ?? {})) ctx.log(`${what.replace(/Ms$/, '')}: ${(ms / 1000).toFixed(1)} s`);
        ctx.log(`ssh -F ${info.sshConfig} cache01`);
        if (addHosts) {
          const { added, kept } = await addLabHosts(inventory, info.hosts, info.identityFile);
          if (added.length) ctx.log(`Added to the inventory: ${added.join(', ')}.`);
          for (const line of kept) ctx.log(line);
          const trusted = await trustLabHostKeys((await pool()).knownHosts, info.knownHosts, info.hosts.filter((h) => added.includes(h.name)));
          if (trusted) ctx.log(`Trusted the ${trusted} host keys the lab generated (from ${info.knownHosts}).`);
        }
      });
      return { jobId: job.id };
    },
    'lab.down': async () => {
      const job = jobs.start('lab.down', 'Stop the demo lab', async (ctx) => {
        await labCall(async () => (await lab()).labDown({ onProgress: (p) => ctx.progress(p.fraction, p.message) }));
      });
      return { jobId: job.id };
    },
    'lab.host': async ({ action, host }) => {
      const l = await lab();
      // The lab's own last word says how long it took (the reset budget is printed, not asserted).
      let said: string | undefined;
      const opts = { onProgress: (p: { message: string }) => (said = p.message) };
      const act = {
        reset: () => l.labReset(host, opts),
        stop: () => l.labStop(host!, opts),
        start: () => l.labStart(host!, opts),
        cut: () => l.labCut(host!, opts),
        heal: () => l.labHeal(host!, opts),
      };
      await labCall(act[action]);
      return { done: said ?? `${action} ${host ?? 'every host'}` };
    },
    'lab.link': async ({ host, rate }) => ({ done: await labCall(async () => (await lab()).labLink(host, rate)) }),
    'lab.selftest': () => labCall(async () => (await lab()).labSelftest()),
  };
}
