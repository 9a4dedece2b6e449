import { AppError } from '../../shared/errors.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { followJob } from './jobs.ts';
import { printJson, table } from './output.ts';

const SPEC = COMMANDS.lab.subcommands;

/** The demo lab: real hosts on this machine (root, Linux). */
export async function labCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up': {
      const { values } = parse(rest, SPEC.up);
      const { jobId } = await core.call('lab.up', {
        caches: values.caches === undefined ? 1 : Number(values.caches),
        nfs: values.nfs ?? false,
        addHosts: !values['no-add-hosts'],
        ...(values.link !== undefined && { links: values.link }),
      });
      await followJob(core, jobId, { quiet: values.json ?? false });
      const info = await core.call('lab.status', {});
      if (values.json) printJson(info);
      else if (info) console.log(`The lab is up. OpenSSH config: ${info.sshConfig}\n  e.g. ssh -F ${info.sshConfig} cache01 hostname`);
      return 0;
    }
    case 'down': {
      const { values } = parse(rest, SPEC.down);
      await followJob(core, (await core.call('lab.down', {})).jobId, { quiet: values.json ?? false });
      if (values.json) printJson({ down: true });
      else console.log('The lab is down; nothing of it is left on this machine.');
      return 0;
    }
    case 'status': {
      const { values } = parse(rest, SPEC.status);
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
      const { values } = parse(rest, SPEC.preflight);
      const result = await core.call('lab.preflight', {});
      if (values.json) printJson(result);
      else {
        for (const p of result.problems) console.log(`${p.what}\n  fix: ${p.fix}`);
        if (result.ok) console.log('This machine can run the lab.');
      }
      return result.ok ? 0 : 1;
    }
    case 'selftest': {
      const { values } = parse(rest, SPEC.selftest);
      const results = await core.call('lab.selftest', {});
      if (values.json) printJson(results);
      else console.log(table(['CHECK', 'RESULT', 'MS', 'DETAIL'], results.map((r) => [r.name, r.ok ? 'ok' : 'FAILED', r.ms, r.detail])));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    case 'link': {
      const { values, positionals } = parse(rest, SPEC.link);
      const [host, rate] = positionals;
      if (positionals.length !== 2 || !host || !rate) throw usageError('Name a host and a rate (or off).', SPEC.link);
      const result = await core.call('lab.link', { host, rate });
      if (values.json) printJson(result);
      else console.log(`Done: ${result.done}.`);
      return 0;
    }
    case 'reset':
    case 'stop':
    case 'start':
    case 'cut':
    case 'heal': {
      const { values, positionals } = parse(rest, SPEC[sub]);
      if (positionals.length > 1 || (sub !== 'reset' && positionals.length === 0)) throw usageError(sub === 'reset' ? 'Name one host at most.' : 'Name one host.', SPEC[sub]);
      const result = await core.call('lab.host', { action: sub, ...(positionals[0] !== undefined && { host: positionals[0] }) });
      if (values.json) printJson(result);
      else console.log(`Done: ${result.done}.`);
      return 0;
    }
    default:
      // run.ts lets through only the subcommands of the table.
      throw new AppError('INVALID_INPUT', `unknown lab subcommand '${sub}'.`);
  }
}
