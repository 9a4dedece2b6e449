import { AppError } from '../shared/errors.ts';
import { auditCommand } from './cli/audit.ts';
import { hostsCommand } from './cli/hosts.ts';
import { installCommand } from './cli/install.ts';
import { labCommand } from './cli/lab.ts';
import { daemonCommand } from './cli/daemon.ts';
import { scheduleCommand } from './cli/schedules.ts';
import { cancelCommand, pushCommand, replicationCommand, snapshotCommand, snapshotsCommand, syncCommand, transfersCommand } from './cli/replication.ts';
import { terminalAsker } from './cli/asker.ts';
import { execCommand, healthCommand, knownHostsCommand } from './cli/ssh.ts';
import { uploadCommand } from './cli/upload.ts';
import { Core } from './core/core.ts';
import { resolveHome } from './core/paths.ts';
import { APP_VERSION } from './core/version.ts';

const USAGE = `usage: icbd [--home DIR] [--accept-new] COMMAND ...

commands:
  hosts list|add|rm|import-ssh-config   the host inventory
  exec HOST -- COMMAND                  run a command on a host (exits with its exit code)
  health [HOST]                         up/down and latency of the hosts
  known-hosts list|forget               the host keys the app trusts
  install HOST --role ROLE [--dry-run]  plan a role on a host (diffs, exact commands) and apply it
  install trust [--dry-run]             SSH trust between every installed node, as the guide's table says
  audit                                 every change made to a host, newest first
  lab up|down|status|...                the demo lab: imgs, rw, home and caches as real hosts here (root)
  snapshots [HOST] [--image NAME]       images × snapshots × nodes; a host's snapshots; --subvolumes its raw list
  snapshot create|delete|add-image ...  take, delete (guarded) or add images and snapshots
  push HOST:IMAGE[@N] --to HOST[,...]   replicate a snapshot (--compress, --relay, --tcp, --setup-keys, --dry-run)
  sync [CACHE...]                       newest snapshot of every carried image to every cache lacking it (same options)
  replication settings|carry|set ...    per node: repository path, carried images, transfer limit, address
  upload FILE HOST:IMAGE|HOST:iso       send a file of this machine into an image or the node's ISOs
  transfers [--watch]                   every transfer, running and past
  cancel ID                             cancel a transfer (what it left half-written is deleted)
  schedule add|list|rm|run-now|notify   replication that runs by itself: when, what, how, last and next run
  daemon [--install-unit]               run the schedules headless (under systemd: --install-unit writes the unit)
  version                               print the version

Most commands take --json for output meant for scripts. The data directory is --home DIR, else
$ICBD_HOME, else the app's per-user data directory. --accept-new trusts (and saves) host keys seen
for the first time, as OpenSSH's StrictHostKeyChecking=accept-new; a changed key is always refused.`;

type Command = (core: Core, argv: string[]) => Promise<number>;
const COMMANDS: Record<string, Command> = {
  audit: auditCommand,
  exec: execCommand,
  health: healthCommand,
  hosts: hostsCommand,
  install: installCommand,
  'known-hosts': knownHostsCommand,
  lab: labCommand,
  snapshots: snapshotsCommand,
  snapshot: snapshotCommand,
  push: pushCommand,
  sync: syncCommand,
  replication: replicationCommand,
  upload: uploadCommand,
  transfers: transfersCommand,
  cancel: cancelCommand,
  schedule: scheduleCommand,
  daemon: daemonCommand,
};

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
    } else if (arg?.startsWith('--home')) {
      rest.shift();
      home = arg.startsWith('--home=') ? arg.slice('--home='.length) : rest.shift();
      if (!home) throw new AppError('INVALID_INPUT', '--home needs a directory.');
    } else break;
  }
  return { home, acceptNew, rest };
}

async function main(argv: string[]): Promise<number> {
  const { home, acceptNew, rest } = splitGlobal(argv);
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
  const core = new Core({ home: resolveHome(home), door: 'cli', asker: terminalAsker({ acceptNew }) });
  try {
    return await command(core, args);
  } finally {
    await core.close();
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
