import { formatTime } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { printJson, table } from './output.ts';
import { parseTime } from './time.ts';

/** Every change made to a host, newest first, at local times with their zone, as the window shows them. */
export async function auditCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.audit);
  if (positionals.length) throw usageError(`audit takes no ${JSON.stringify(positionals[0])}: name a host with --host.`, COMMANDS.audit);
  if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw usageError(`--limit is a whole number (got ${JSON.stringify(values.limit)}).`, COMMANDS.audit);
  const entries = await core.call('audit.list', {
    ...(values.host !== undefined && { host: values.host }),
    ...(values.since !== undefined && { since: parseTime(values.since, 'since') }),
    ...(values.until !== undefined && { until: parseTime(values.until, 'until') }),
    ...(values.limit !== undefined && { limit: Number(values.limit) }),
  });
  if (values.json) printJson(entries);
  else if (!entries.length) console.log('No audit entries match.');
  else
    console.log(
      table(
        ['TIME', 'HOST', 'ACTION', 'RESULT', 'ACTOR', 'COMMAND'],
        entries.map((e) => [formatTime(e.at), e.host, e.action, e.exitCode === undefined ? e.result : `${e.result} (exit ${e.exitCode})`, `${e.actor} (${e.door})`, e.command]),
      ),
    );
  return 0;
}
