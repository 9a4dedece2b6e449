import { AppError } from '../../shared/errors.ts';
import { describeWhat, describeWhen, parseMinutes, parseRate, parseWindow, type ScheduleInput, type ScheduleRun, type ScheduleView } from '../../shared/schedules.ts';
import { formatRate } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { printJson, table } from './output.ts';
import { sending } from './replication.ts';

const SPEC = COMMANDS.schedule.subcommands;

/** "2026-12-06 02:00" in local time: when a run was or will be, as cron's logs and systemd's list-timers show it. */
export function localTime(t: number | null | undefined): string {
  if (t === null || t === undefined) return '-';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The LAST column: when and how the last run ended. */
export function lastRunWords(run: ScheduleRun | null): string {
  if (!run) return 'never';
  return run.outcome === 'running' ? `running since ${localTime(run.startedAt)}` : `${run.outcome === 'ok' ? 'ok' : 'FAILED'} ${localTime(run.endedAt ?? run.startedAt)}`;
}

function printList(list: readonly ScheduleView[]): void {
  if (!list.length) return console.log('No schedules. Add one with: icbd schedule add NAME --at 02:00');
  console.log(
    table(
      ['NAME', 'WHEN', 'WHAT', 'HOW', 'LAST', 'NEXT'],
      list.map((s) => [
        s.enabled ? s.name : `${s.name} (disabled)`,
        describeWhen(s),
        describeWhat(s),
        `${s.mode}, ${s.compression}${s.rateLimit ? `, ≤ ${formatRate(s.rateLimit)}` : ''}`,
        lastRunWords(s.lastRun),
        s.when.kind === 'snapshot' && s.enabled ? 'on a new snapshot' : localTime(s.nextRunAt),
      ]),
    ),
  );
  for (const s of list) if (s.lastRun?.outcome === 'failed') console.log(`\n${s.name} failed (${s.lastRun.reason}):\n${s.lastRun.message}`);
}

function needMinutes(text: string, option: string): number {
  const m = parseMinutes(text);
  if (m === undefined) throw new AppError('INVALID_INPUT', `${option} is minutes, or a duration like 10m, 6h or 1d (got ${JSON.stringify(text)}).`);
  return m;
}

const list = (text: string | undefined) => (text ? text.split(',').filter(Boolean) : []);

export async function scheduleCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const name = sub === 'ls' ? 'list' : sub === 'remove' ? 'rm' : sub;
  const spec = SPEC[name as keyof typeof SPEC];
  const { values, positionals } = parse(rest, { usage: spec.usage, options: { ...SPEC.add.options, ...SPEC.notify.options } });

  if ((sub === 'list' || sub === 'ls') && positionals.length === 0) {
    const l = await core.call('schedules.list', {});
    if (values.json) printJson(l);
    else {
      printList(l.schedules);
      if (l.schedules.length) console.log(`\nRun by: ${l.schedules[0]!.runner ?? 'no process now (start the window, icbd serve or icbd daemon)'}`);
      if (l.notify) console.log(`On ${l.notify.on}: ${l.notify.command}`);
    }
    return 0;
  }
  if (sub === 'add' && positionals.length === 1) {
    const whens = [values.at, values.every, values['on-snapshot']].filter((v) => v !== undefined);
    if (whens.length !== 1) throw usageError('Say when, once: --at HH:MM, --every DURATION or --on-snapshot.', SPEC.add);
    const rateLimit = values['rate-limit'] === undefined ? undefined : parseRate(values['rate-limit']);
    if (values['rate-limit'] !== undefined && rateLimit === undefined) throw new AppError('INVALID_INPUT', `--rate-limit is bytes per second, e.g. 50M or 1.5G (got ${JSON.stringify(values['rate-limit'])}).`);
    const window = values.window === undefined ? undefined : parseWindow(values.window);
    if (values.window !== undefined && !window) throw new AppError('INVALID_INPUT', `--window is HH:MM-HH:MM, e.g. 20:00-06:00 (got ${JSON.stringify(values.window)}).`);
    const schedule: ScheduleInput = {
      name: positionals[0]!,
      images: list(values.images),
      caches: list(values.caches),
      when: values.at !== undefined ? { kind: 'daily', at: values.at } : values.every !== undefined ? { kind: 'interval', minutes: needMinutes(values.every, '--every') } : { kind: 'snapshot', withinMinutes: values.within === undefined ? 10 : needMinutes(values.within, '--within') },
      ...sending(values),
      ...(rateLimit !== undefined ? { rateLimit } : {}),
      ...(window ? { window } : {}),
      enabled: !values.disabled,
    };
    const saved = await core.call('schedules.add', { schedule, replace: values.replace ?? false });
    if (values.json) printJson(saved);
    else console.log(`Schedule ${saved.name}: ${describeWhat(saved)}, ${describeWhen(saved)}.`);
    return 0;
  }
  if ((sub === 'rm' || sub === 'remove') && positionals.length === 1) {
    const result = await core.call('schedules.remove', { name: positionals[0]! });
    if (values.json) printJson(result);
    else console.log(`Removed schedule ${result.removed}.`);
    return 0;
  }
  if (sub === 'run-now' && positionals.length === 1) {
    if (!values.json) console.log(`Running ${positionals[0]} now, in this process; it ends when its transfers do.`);
    const run = await core.call('schedules.runNow', { name: positionals[0]!, wait: true });
    if (values.json) printJson(run);
    else console.log(`${run.outcome === 'ok' ? 'ok' : 'FAILED'}: ${run.message}`);
    return run.outcome === 'ok' ? 0 : 1;
  }
  if (sub === 'notify' && (positionals.length === 1) !== Boolean(values.off)) {
    const notify = values.off ? null : { command: positionals[0]!, on: values.always ? ('always' as const) : ('failure' as const) };
    await core.call('schedules.notify', { notify });
    console.log(notify ? `After each ${notify.on === 'always' ? 'scheduled run' : 'failed scheduled run'}: ${notify.command}` : 'No command is run after scheduled runs.');
    return 0;
  }
  throw usageError(`schedule ${sub} takes other arguments.`, spec);
}
