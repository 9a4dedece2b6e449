import { AppError } from '../shared/errors.ts';
import { auditCommand } from './cli/audit.ts';
import { hostsCommand } from './cli/hosts.ts';
import { labCommand } from './cli/lab.ts';
import { Core } from './core/core.ts';
import { resolveHome } from './core/paths.ts';
import { APP_VERSION } from './core/version.ts';

const USAGE = `usage: icbd [--home DIR] COMMAND ...

commands:
  audit                 every change made to a host, newest first
  hosts list|add|rm     the host inventory
  lab up|down|status    the demo lab: imgs, rw, home and caches as real hosts on this machine (root)
  version               print the version

Every command takes --json for output meant for scripts. The data directory is --home DIR,
else $ICBD_HOME, else the app's per-user data directory.`;

type Command = (core: Core, argv: string[]) => Promise<number>;
const COMMANDS: Record<string, Command> = {
  audit: auditCommand,
  hosts: hostsCommand,
  lab: labCommand,
};

/** Global options come before the command, like git's. */
function splitGlobal(argv: string[]): { home?: string; rest: string[] } {
  const rest = [...argv];
  let home: string | undefined;
  while (rest[0]?.startsWith('--home')) {
    const arg = rest.shift()!;
    if (arg.startsWith('--home=')) home = arg.slice('--home='.length);
    else home = rest.shift();
    if (!home) throw new AppError('INVALID_INPUT', '--home needs a directory.');
  }
  return { home, rest };
}

async function main(argv: string[]): Promise<number> {
  const { home, rest } = splitGlobal(argv);
  const [name, ...args] = rest;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    console.log(APP_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new AppError('INVALID_INPUT', `icbd: unknown command '${name}'.\n${USAGE}`);
  const core = new Core({ home: resolveHome(home), door: 'cli' });
  try {
    return await command(core, args);
  } finally {
    core.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`icbd: ${message}\n`);
    process.exitCode = err instanceof AppError && err.code === 'INVALID_INPUT' ? 2 : 1;
  },
);
