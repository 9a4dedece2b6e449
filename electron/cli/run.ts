import { AppError } from '../../shared/errors.ts';
import { Core } from '../core/core.ts';
import { resolveHome } from '../core/util/paths.ts';
import { APP_VERSION } from '../core/util/version.ts';
import { nearest, parse } from './args.ts';
import { terminalAsker } from './asker.ts';
import { auditCommand } from './audit.ts';
import { COMMANDS, GLOBAL_OPTIONS, specOf, subcommand, type CommandSpec } from './commands.ts';
import { commandHelp, mainHelp } from './help.ts';
import { daemonCommand } from './daemon.ts';
import { scheduleCommand } from './schedules.ts';
import { hostsCommand } from './hosts.ts';
import { installCommand } from './install.ts';
import { Interrupted } from './interrupt.ts';
import { labCommand } from './lab.ts';
import { printJson } from './output.ts';
import { cancelCommand, pruneCommand, pushCommand, replicationCommand, snapshotCommand, snapshotsCommand, syncCommand, transfersCommand } from './replication.ts';
import { statusCommand } from './status.ts';
import { execCommand, healthCommand, knownHostsCommand } from './ssh.ts';
import { uploadCommand } from './upload.ts';

type Handler = (core: Core, argv: string[]) => Promise<number>;
type CommandName = keyof typeof COMMANDS;

const HANDLERS: Record<Exclude<CommandName, 'help' | 'version'>, Handler> = {
  audit: auditCommand,
  exec: execCommand,
  health: healthCommand,
  status: statusCommand,
  hosts: hostsCommand,
  install: installCommand,
  'known-hosts': knownHostsCommand,
  lab: labCommand,
  snapshots: snapshotsCommand,
  snapshot: snapshotCommand,
  prune: pruneCommand,
  push: pushCommand,
  sync: syncCommand,
  replication: replicationCommand,
  upload: uploadCommand,
  transfers: transfersCommand,
  cancel: cancelCommand,
  schedule: scheduleCommand,
  daemon: daemonCommand,
};

const TABLE = COMMANDS as Readonly<Record<string, CommandSpec>>;
const width = () => Math.min(100, process.stdout.columns || 100);

/** Global options come before the command, like git's. */
function splitGlobal(argv: string[]): { home?: string; acceptNew: boolean; rest: string[] } {
  const rest = [...argv];
  let home: string | undefined;
  let acceptNew = false;
  for (;;) {
    const arg = rest[0];
    if (arg === '--accept-new') {
      rest.shift();
      acceptNew = true;
    } else if (arg === '--home' || arg?.startsWith('--home=')) {
      rest.shift();
      home = arg.startsWith('--home=') ? arg.slice('--home='.length) : rest.shift();
      if (!home) throw new AppError('INVALID_INPUT', '--home needs a directory.');
    } else break;
  }
  return { home, acceptNew, rest };
}

/** An unknown word where a command or subcommand goes: the nearest one, else the list to choose from. */
function unknownWord(what: string, word: string, known: readonly string[], help: string): AppError {
  const near = word.startsWith('-') ? nearest(word.replace(/^-+/, ''), Object.keys(GLOBAL_OPTIONS)) : nearest(word, known);
  const hint = near ? ` Did you mean '${word.startsWith('-') ? `--${near}` : near}'?` : '';
  return new AppError('INVALID_INPUT', `unknown ${what} '${word}'.${hint}\n${help}`);
}

/** `icbd help [COMMAND [SUBCOMMAND]]`: on stdout, exit 0, as `git help`. */
function help(words: readonly string[]): number {
  if (!words.length) return (console.log(mainHelp(width())), 0);
  const found = specOf(words);
  if (!found) throw unknownWord('command', words[0]!, Object.keys(TABLE), 'Run `icbd help` for the list.');
  if (words.length > 1 && found.path.length === 1) throw unknownWord(`${words[0]} subcommand`, words[1]!, Object.keys(found.spec.subcommands ?? {}), `Run \`icbd help ${words[0]}\` for the list.`);
  console.log(commandHelp(found.path, found.spec, width()));
  return 0;
}

async function dispatch(argv: string[]): Promise<number> {
  const { home, acceptNew, rest } = splitGlobal(argv);
  const [name, ...args] = rest;
  if (name === undefined) {
    // As git and ssh without arguments: the usage, on stderr, and a usage error.
    process.stderr.write(`${mainHelp(width())}\n`);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') return help(args);
  const command = name === '--version' ? TABLE.version! : TABLE[name];
  if (!command) throw unknownWord(name.startsWith('-') ? 'option' : 'command', name, Object.keys(TABLE), 'Run `icbd help` for the list.');
  // --help anywhere before `--` (after it, the words are a remote command's): that command's usage.
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--help') || own.includes('-h')) return help([name, ...(command.subcommands && own[0] && subcommand(command, own[0]) ? [own[0]] : [])]);
  if (command.subcommands && !command.bare && (args[0] === undefined || !subcommand(command, args[0])))
    throw args[0] === undefined || args[0].startsWith('-')
      ? new AppError('INVALID_INPUT', `icbd ${name} needs a subcommand.\n${commandHelp([name], command, width())}`)
      : unknownWord(`${name} subcommand`, args[0], Object.keys(command.subcommands), commandHelp([name], command, width()));
  if (name === 'version' || name === '--version') {
    const { values } = parse(args, COMMANDS.version);
    if (values.json) printJson({ version: APP_VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` });
    else console.log(APP_VERSION);
    return 0;
  }
  const core = new Core({ home: resolveHome(home), door: 'cli', asker: terminalAsker({ acceptNew }) });
  try {
    return await HANDLERS[name as keyof typeof HANDLERS](core, args);
  } finally {
    await core.close();
  }
}

/** The CLI door: runs a command line, sets the exit status (see EXIT_CODES), the reason on stderr. */
export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await dispatch(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`icbd: ${message}\n`);
    process.exitCode = err instanceof Interrupted ? 130 : err instanceof AppError && err.code === 'INVALID_INPUT' ? 2 : 1;
  }
}
