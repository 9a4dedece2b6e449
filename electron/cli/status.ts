import type { Overview } from '../../shared/overview.ts';
import { describeWhen } from '../../shared/schedules.ts';
import { formatAge, formatBytes, formatTime } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { printJson, table } from './output.ts';
import { transfersTable } from './replication.ts';
import { lastRunWords, localTime } from './schedules.ts';

/**
 * `icbd status`: the morning's first look, as btrbk stats/list print it: sections of aligned
 * columns, then each failure since the last --ack with what to do. Exit 1 while there are any.
 */
export async function statusCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.status);
  if (positionals.length) throw usageError('status takes no arguments.', COMMANDS.status);
  const o = await core.call('overview.get', {});
  if (values.json) printJson(o);
  else console.log(render(o));
  if (values.ack) {
    await core.call('overview.ack', { at: o.at });
    if (!values.json) console.log(`\nAcknowledged: the next status shows failures after ${formatTime(o.at)}.`);
  }
  return o.failures.length ? 1 : 0;
}

const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : undefined);

function render(o: Overview): string {
  const nodes = !o.nodes.length
    ? 'No hosts yet: add them with icbd hosts add (or icbd hosts import-ssh-config).'
    : table(
    ['HOST', 'ROLE', 'STATE', 'LATENCY', 'USED', 'FREE', 'SIZE', 'USE'],
    o.nodes.map((n) => [
      n.host,
      n.role,
      n.state,
      n.latencyMs === null ? undefined : `${n.latencyMs.toFixed(0)} ms`,
      n.disk ? formatBytes(n.disk.usedBytes) : undefined,
      n.disk ? formatBytes(n.disk.freeBytes) : undefined,
      n.disk ? formatBytes(n.disk.sizeBytes) : undefined,
      n.disk ? percent(n.disk.usedBytes, n.disk.sizeBytes) : undefined,
    ]),
  );
  const diskNotes = o.nodes.filter((n) => n.diskProblem).map((n) => `${n.host}: ${n.diskProblem}`);
  const lag = o.lag.length
    ? table(
        ['IMAGE', 'CACHE', 'STATE', 'MISSING', 'HAS', `${o.source ?? 'imgs'} HAS`, 'NEWEST TAKEN'],
        o.lag.map((l) => [l.image, l.cache, l.state, l.state === 'unknown' ? undefined : l.missing, l.newest ?? undefined, l.sourceNewest ?? undefined, l.newestAt === null ? undefined : formatAge(l.newestAt, o.at)]),
      )
    : o.source
      ? 'No image on imgs is carried by a cache.'
      : 'The inventory has no imgs node.';
  const active = [...o.running, ...o.queued];
  const since = o.lastLook === null ? 'on record (never acknowledged)' : `since ${formatTime(o.lastLook)}`;
  const failures = o.failures.length
    ? o.failures.map((f) => `${f.kind} ${f.subject}, ${formatTime(f.at)}:\n  ${f.message}\n  What to do: ${f.action}`).join('\n')
    : 'None.';
  return [
    `Nodes\n${nodes}${diskNotes.length ? `\n${diskNotes.join('\n')}` : ''}`,
    `Caches against ${o.source ?? 'imgs'}\n${lag}`,
    `Transfers: ${o.running.length} running, ${o.queued.length} queued${active.length ? `\n${transfersTable(active)}` : ''}`,
    `Schedules\n${
      o.schedules.length
        ? table(
            ['NAME', 'WHEN', 'LAST', 'NEXT'],
            o.schedules.map((s) => [s.name, describeWhen(s), lastRunWords(s.lastRun), !s.enabled ? 'disabled' : s.when.kind === 'snapshot' ? 'on a new snapshot' : localTime(s.nextRunAt)]),
          )
        : 'None: replication runs only when someone pushes (icbd schedule add).'
    }`,
    `Failures ${since}: ${o.failures.length}${o.failures.length ? ' (acknowledge with icbd status --ack)' : ''}\n${failures}`,
  ].join('\n\n');
}
