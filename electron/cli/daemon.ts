import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.ts';
import { readFileIfExists, writeFileAtomic } from '../core/util/files.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { printJson, printJsonLine } from './output.ts';

/** This CLI's folder: electron/cli/ in a checkout (ESM under tsx), out/cli/ in the CommonJS bundle (no import.meta there). */
const here = () => (typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url)));
/** resources/ beside electron/ or out/, in a checkout and in the packaged app alike. */
const template = () => join(here(), '..', '..', 'resources', 'icbd-daemon.service');
const DEFAULT_UNIT_PATH = '/etc/systemd/system/icbd-daemon.service';

/** One word of a systemd command line: quoted, with systemd's specifiers (%) and quotes escaped (systemd.syntax(7)). */
function unitWord(word: string): string {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(word) ? word : `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/**
 * The unit for this installation: this node, this icbd, this data directory, run as `user`.
 * `electron`: the packaged app's CLI, whose "node" is the app's Electron run as Node (as the
 * launcher in build/linux/icbd runs it); without the variable it would start the window.
 */
export function renderUnit(template: string, o: { node: string; icbd: string; home: string; user: string; electron?: boolean }): string {
  if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(o.user)) throw new AppError('INVALID_INPUT', `${JSON.stringify(o.user)} is not a user name.`);
  const exec = [o.node, o.icbd, '--home', o.home, 'daemon'].map(unitWord).join(' ');
  return template
    .replace(/^ExecStart=@EXEC@$/m, `${o.electron ? 'Environment=ELECTRON_RUN_AS_NODE=1\n' : ''}ExecStart=${exec}`)
    .replace(/^User=@USER@$/m, `User=${o.user}`);
}

/**
 * `icbd daemon`: runs the schedules of the data directory until stopped, headless (under systemd:
 * one line per audit entry and per failure, to the journal). With --install-unit, writes the
 * systemd unit that runs it, and says the commands that start it.
 */
export async function daemonCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.daemon);
  if (positionals.length) throw usageError('daemon takes no arguments.', COMMANDS.daemon);
  if (values['install-unit'] || values['print-unit']) {
    const unit = renderUnit(await readFile(template(), 'utf8'), {
      node: process.execPath,
      icbd: process.argv[1]!,
      home: core.options.home,
      user: values.user ?? userInfo().username,
      electron: process.versions.electron !== undefined,
    });
    if (values['print-unit']) return (values.json ? printJson({ unit }) : process.stdout.write(unit), 0);
    const path = values['unit-path'] ?? DEFAULT_UNIT_PATH;
    const old = await readFileIfExists(path);
    if (old === unit) return (values.json ? printJson({ path, changed: false }) : console.log(`${path} is already this unit; nothing changed.`), 0);
    if (old !== undefined && !values.force) throw new AppError('CONFLICT', `${path} exists and differs (see icbd daemon --print-unit): replace it with --force.`);
    await writeFileAtomic(path, unit, 0o644);
    await core.audit.append({ host: 'localhost', action: 'daemon.install-unit', path, result: 'ok', detail: old === undefined ? 'written' : 'replaced' });
    if (values.json) return (printJson({ path, changed: true }), 0);
    console.log(`Wrote ${path}. Start it now and at every boot with:\n  systemctl daemon-reload && systemctl enable --now icbd-daemon\nIts log: journalctl -u icbd-daemon -f`);
    return 0;
  }
  return runDaemon(core, values.json ?? false);
}

async function runDaemon(core: Core, json: boolean): Promise<number> {
  const log = (line: string) => (json ? printJsonLine({ at: new Date().toISOString(), line }) : process.stdout.write(`${line}\n`));
  const offs = [
    core.on('audit.appended', (e) => log(`${e.action} ${e.host}: ${e.result}${e.command ? ` (${e.command})` : ''}${e.detail ? ` ${e.detail.replace(/\n/g, ' ')}` : ''}`)),
    core.on('schedule.failed', ({ name, run }) => process.stderr.write(`schedule ${name} FAILED: ${run.message.replace(/\n/g, ' ')}\n`)),
  ];
  core.schedules.start('daemon');
  const list = await core.call('schedules.list', {});
  log(`icbd daemon: data directory ${core.options.home}, ${list.schedules.length} schedule(s); ${list.schedules[0]?.runner ? `runs them: ${list.schedules[0].runner}` : 'waiting for its first look'}.`);
  // Signal listeners do not keep Node running: this timer does, until a signal ends the wait.
  const alive = setInterval(() => undefined, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  clearInterval(alive);
  log(`icbd daemon: ${signal}, stopping (no new run starts).`);
  for (const off of offs) off();
  return 0;
}
