import type { Core } from '../core/core.ts';
import { parse } from './args.ts';
import { printJson, table } from './output.ts';

const USAGE = 'icbd audit [--host HOST] [--since ISO-TIME] [--until ISO-TIME] [--limit N] [--json]';

/** Every change made to a host, newest first. */
export async function auditCommand(core: Core, argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { host: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const entries = await core.call('audit.list', {
    ...(values.host !== undefined && { host: values.host }),
    ...(values.since !== undefined && { since: values.since }),
    ...(values.until !== undefined && { until: values.until }),
    ...(values.limit !== undefined && { limit: Number(values.limit) }),
  });
  if (values.json) printJson(entries);
  else if (!entries.length) console.log('No audit entries match.');
  else
    console.log(
      table(
        ['TIME', 'HOST', 'ACTION', 'RESULT', 'ACTOR', 'COMMAND'],
        entries.map((e) => [e.at.replace('T', ' ').slice(0, 19), e.host, e.action, e.exitCode === undefined ? e.result : `${e.result} (exit ${e.exitCode})`, `${e.actor} (${e.door})`, e.command]),
      ),
    );
  return 0;
}
