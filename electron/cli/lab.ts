import { AppError } from '../../shared/errors.ts';
import type { Core } from '../core/core.ts';
import { parse } from './args.ts';
import { followJob } from './jobs.ts';
import { printJson, table } from './output.ts';

const USAGE = `icbd lab up [--caches N] [--nfs] [--no-add-hosts] [--link HOST=RATE[,HOST=RATE…]]
       icbd lab down | status [--json] | preflight | selftest [--json]
       icbd lab reset [HOST] | stop HOST | start HOST | cut HOST | heal HOST
       icbd lab link HOST RATE|off
RATE is a token-bucket rate in both directions, like 50mbit, 100mbit or 1gbit; each host has
a link of its own. This kernel shapes rates only: no delay or loss (no netem).`;

/** The demo lab: real hosts on this machine (root, Linux). */
export async function labCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up': {
      const { values } = parse(rest, { caches: { type: 'string' }, nfs: { type: 'boolean' }, 'no-add-hosts': { type: 'boolean' }, link: { type: 'string' } }, USAGE);
      const { jobId } = await core.call('lab.up', {
        caches: values.caches === undefined ? 1 : Number(values.caches),
        nfs: values.nfs ?? false,
        addHosts: !values['no-add-hosts'],
        ...(values.link !== undefined && { links: values.link }),
      });
      await followJob(core, jobId);
      const info = await core.call('lab.status', {});
      if (info) console.log(`The lab is up. OpenSSH config: ${info.sshConfig}\n  e.g. ssh -F ${info.sshConfig} cache01 hostname`);
      return 0;
    }
    case 'down': {
      parse(rest, {}, USAGE);
      await followJob(core, (await core.call('lab.down', {})).jobId);
      console.log('The lab is down; nothing of it is left on this machine.');
      return 0;
    }
    case 'status': {
      const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE);
      const info = await core.call('lab.status', {});
      if (values.json) printJson(info);
      else if (!info) console.log('No lab is up. Start one with: npm run lab -- up');
      else {
        console.log(table(['HOST', 'ROLE', 'ADDRESS', 'JUMP', 'STATE', 'LINK'], info.hosts.map((h) => [h.name, h.role, h.address, h.jump, h.state, h.link ?? 'unshaped'])));
        console.log(`\nssh -F ${info.sshConfig} HOST`);
        console.log(`package mirror: ${info.mirror} (the hosts behind imgs reach it through imgs)`);
      }
      return 0;
    }
    case 'preflight': {
      parse(rest, {}, USAGE);
      const { ok, problems } = await core.call('lab.preflight', {});
      for (const p of problems) console.log(`${p.what}\n  fix: ${p.fix}`);
      if (ok) console.log('This machine can run the lab.');
      return ok ? 0 : 1;
    }
    case 'selftest': {
      const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE);
      const results = await core.call('lab.selftest', {});
      if (values.json) printJson(results);
      else console.log(table(['CHECK', 'RESULT', 'MS', 'DETAIL'], results.map((r) => [r.name, r.ok ? 'ok' : 'FAILED', r.ms, r.detail])));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    case 'link': {
      const { positionals } = parse(rest, {}, USAGE);
      const [host, rate] = positionals;
      if (positionals.length !== 2 || !host || !rate) throw new AppError('INVALID_INPUT', `Name a host and a rate (or off).\nusage: ${USAGE}`);
      const { done } = await core.call('lab.link', { host, rate });
      console.log(`Done: ${done}.`);
      return 0;
    }
    case 'reset':
    case 'stop':
    case 'start':
    case 'cut':
    case 'heal': {
      const { positionals } = parse(rest, {}, USAGE);
      if (positionals.length > 1) throw new AppError('INVALID_INPUT', `Name one host at most.\nusage: ${USAGE}`);
      const { done } = await core.call('lab.host', { action: sub, ...(positionals[0] !== undefined && { host: positionals[0] }) });
      console.log(`Done: ${done}.`);
      return 0;
    }
    default:
      throw new AppError('INVALID_INPUT', `usage: ${USAGE}`);
  }
}
