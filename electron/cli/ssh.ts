import { AppError } from '../../shared/errors.ts';
import type { HostHealth } from '../../shared/ssh.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { followJob } from './jobs.ts';
import { printJson, table } from './output.ts';
import { lastRunWords } from './schedules.ts';

/** `icbd exec HOST -- CMD`: the remote command's output as it comes, and its exit code as ours. */
export async function execCommand(core: Core, argv: string[]): Promise<number> {
  const dashes = argv.indexOf('--');
  if (dashes < 0 || dashes === argv.length - 1) throw usageError('Put the command after --.', COMMANDS.exec);
  const { values, positionals } = parse(argv.slice(0, dashes), COMMANDS.exec);
  if (positionals.length !== 1) throw usageError('Name one host.', COMMANDS.exec);
  // The words after -- are the operator's command line, joined as ssh joins them.
  const command = argv.slice(dashes + 1).join(' ');
  const { jobId } = await core.call('ssh.exec', {
    host: positionals[0]!,
    command,
    ...(values.timeout !== undefined && { timeoutMs: Math.round(Number(values.timeout) * 1000) }),
  });
  const output = { stdout: '', stderr: '' };
  await followJob(core, jobId, { quiet: true, ...(values.json && { onLog: (log) => (output[log.stream === 'stderr' ? 'stderr' : 'stdout'] += log.line) }) });
  const end = core.jobs.list().find((j) => j.id === jobId);
  const result = end?.result as { code: number | null; signal: string | null } | undefined;
  if (values.json) printJson({ host: positionals[0], command, code: result?.code ?? null, signal: result?.signal ?? null, ...output });
  else if (result?.signal) process.stderr.write(`icbd: the command was killed by ${result.signal}.\n`);
  // As ssh does: the remote exit code, or 255 when there is none.
  return result?.code ?? 255;
}

/** The STATE column: a key that is not accepted says which way, a changed or revoked one loudly. */
function stateWords(h: HostHealth): string {
  const key = h.lastError?.hostKey;
  if (h.state !== 'untrusted' || !key) return h.state;
  const whose = key.hop === h.host ? 'key' : `${key.hop}'s key`;
  return key.state === 'unknown' ? `untrusted: ${whose} not accepted yet` : `UNTRUSTED: ${whose} ${key.state.toUpperCase()}`;
}

/**
 * The table, then why each host is not up, in full: the words say what to do. Without HOST, the
 * schedules too: a scheduled run that failed is as much a problem as a host that is down.
 */
export async function healthCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.health);
  const list = await core.call('health.check', positionals[0] ? { host: positionals[0] } : {});
  const schedules = positionals[0] ? [] : (await core.call('schedules.list', {})).schedules;
  const failed = schedules.filter((s) => s.lastRun?.outcome === 'failed');
  if (values.json) printJson(list);
  else if (!list.length) console.log('No hosts to check. Add some with: icbd hosts add');
  else {
    console.log(table(['HOST', 'STATE', 'LATENCY'], list.map((h) => [h.host, stateWords(h), h.latencyMs === null ? undefined : `${h.latencyMs.toFixed(0)} ms`])));
    for (const h of list) if (h.lastError) console.log(`\n${h.host}: ${h.lastError.message}`);
  }
  if (!values.json && schedules.length) {
    console.log(`\n${table(['SCHEDULE', 'LAST RUN'], schedules.map((s) => [s.name, lastRunWords(s.lastRun)]))}`);
    for (const s of failed) console.log(`\nschedule ${s.name}: ${s.lastRun!.message}`);
  }
  return list.every((h) => h.state === 'up') && failed.length === 0 ? 0 : 1;
}

const KNOWN = COMMANDS['known-hosts'].subcommands;

export async function knownHostsCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list' || sub === 'ls') {
    const { values } = parse(rest, KNOWN.list);
    const entries = await core.call('knownHosts.list', {});
    if (values.json) printJson(entries);
    else console.log(table(['HOSTS', 'TYPE', 'FINGERPRINT', 'FILE'], entries.map((e) => [e.hosts + (e.marker ? ` (@${e.marker})` : ''), e.keyType, e.fingerprint, `${e.file}:${e.line}`])));
    return 0;
  }
  if (sub === 'forget') {
    const { values, positionals } = parse(rest, KNOWN.forget);
    if (positionals.length < 1 || positionals.length > 2) throw usageError('Name one address, and its port where not 22.', KNOWN.forget);
    const result = await core.call('knownHosts.forget', { address: positionals[0]!, port: (positionals[1] ?? 22) as number });
    if (values.json) printJson(result);
    else console.log(result.removed ? `Forgot ${result.removed} key(s) of ${positionals[0]}.` : `The app had no saved key of ${positionals[0]} (keys in ~/.ssh are yours to edit).`);
    return 0;
  }
  // run.ts lets through only the subcommands of the table.
  throw new AppError('INVALID_INPUT', `unknown known-hosts subcommand '${sub}'.`);
}
