/**
 * The CLI's command table: every command, subcommand and option with its help. The commands parse
 * their arguments with it (args.ts), and `icbd help`, the bash and zsh completions and the man
 * page are generated from it (help.ts, docs.ts), so none of them can drift from what is accepted.
 */

/** What a word completes to: a host of the inventory, a local file, or one of fixed words. */
export type Completion = 'host' | 'file' | readonly string[];

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** The value's name in usage lines, e.g. HOST. */
  readonly value?: string;
  readonly help: string;
  readonly complete?: Completion;
}

export interface CommandSpec {
  readonly summary: string;
  /** Usage lines after `icbd `; with subcommands, each subcommand's own usage is listed instead. */
  readonly usage?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** What the positional words complete to, in order; the last one repeats. */
  readonly args?: readonly Completion[];
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
  /** Other names of a subcommand (`ls` for `list`). */
  readonly aliases?: readonly string[];
  /** With subcommands: the command also runs without one (`install HOST` beside `install trust`). */
  readonly bare?: boolean;
}

const ROLES = ['imgs', 'rw', 'home', 'cache'] as const;
const CODECS = ['none', 'zstd', 'lz4', 'gzip', 'snappy', 'auto'] as const;

const json = { type: 'boolean', help: 'print the result as JSON, for scripts' } as const;
const dryRun = { type: 'boolean', help: 'show the plan (every diff and exact command) and change nothing' } as const;
const yes = { type: 'boolean', help: 'apply without asking (needed where there is no terminal)' } as const;

/** How push and sync send: shared so both accept the same words. */
const SENDING = {
  compress: { type: 'string', value: 'CODEC', help: 'compress the stream: none, zstd, lz4, gzip, snappy, or auto (picked per link and CPU)', complete: CODECS },
  relay: { type: 'boolean', help: 'pipe the stream through this machine (for nodes that do not trust each other)' },
  tcp: { type: 'boolean', help: 'send over plain TCP between the nodes (UNENCRYPTED; for a trusted network)' },
  'limit-rate': { type: 'string', value: 'RATE', help: "cap each transfer, bytes per second: 20M, 512K (default: the receivers' own setting)" },
  'setup-keys': { type: 'boolean', help: 'first let the source ssh to receivers it cannot log in to yet (audited)' },
  'dry-run': dryRun,
  json,
} as const;

/** The lab's subcommands that act on one host (or, for reset, every host). */
const labHost = (summary: string, args: string) => ({ summary, usage: `lab ${args}`, options: { json }, args: ['host'] }) as const;

export const COMMANDS = {
  hosts: {
    summary: 'the host inventory',
    subcommands: {
      list: { summary: 'list the hosts', aliases: ['ls'], usage: 'hosts list [--json]', options: { json } },
      add: {
        summary: 'add a host',
        usage: 'hosts add NAME --address ADDR --role ROLE [--port N] [--user U] [--jump HOST] [--identity-file PATH] [--notes TEXT] [--json]',
        options: {
          address: { type: 'string', value: 'ADDR', help: 'its address or DNS name, as this machine (or its jump host) reaches it' },
          role: { type: 'string', value: 'ROLE', help: 'imgs, rw, home or cache', complete: ROLES },
          port: { type: 'string', value: 'N', help: 'its SSH port (22)' },
          user: { type: 'string', value: 'USER', help: 'the user to log in as (root)' },
          jump: { type: 'string', value: 'HOST', help: 'reach it through this host of the inventory, as ssh -J', complete: 'host' },
          'identity-file': { type: 'string', value: 'PATH', help: 'a private key to log in with, besides the agent', complete: 'file' },
          notes: { type: 'string', value: 'TEXT', help: 'free text shown in the list' },
          json,
        },
      },
      rm: { summary: 'remove a host', aliases: ['remove'], usage: 'hosts rm NAME [--json]', options: { json }, args: ['host'] },
      'import-ssh-config': {
        summary: 'propose hosts from ~/.ssh/config (or FILE); --add adds them',
        usage: 'hosts import-ssh-config [FILE] [--add] [--role NAME=ROLE ...] [--json]',
        options: {
          add: { type: 'boolean', help: 'add the proposed hosts (without it, only show them)' },
          role: { type: 'string', multiple: true, value: 'NAME=ROLE', help: "correct a guessed role, e.g. --role cache01=cache (repeatable)" },
          json,
        },
        args: ['file'],
      },
    },
  },
  exec: {
    summary: 'run a command on a host; exits with its exit code (255 when it could not run, as ssh)',
    usage: 'exec HOST [--timeout SECONDS] [--json] -- COMMAND [ARG...]',
    options: {
      timeout: { type: 'string', value: 'SECONDS', help: 'stop the command after this long' },
      json: { type: 'boolean', help: 'print {host, command, code, signal, stdout, stderr} as JSON once it ends' },
    },
    args: ['host'],
  },
  status: {
    summary: "the first look: nodes' health and disk use, caches behind imgs, transfers, failures since the last --ack",
    usage: 'status [--ack] [--json]',
    options: { ack: { type: 'boolean', help: 'mark the failures shown as seen: the next status lists only newer ones' }, json },
  },
  health: { summary: 'up, down or untrusted, and latency, of every host (or HOST)', usage: 'health [HOST] [--json]', options: { json }, args: ['host'] },
  'known-hosts': {
    summary: 'the host keys the app trusts',
    subcommands: {
      list: { summary: "list the keys (the app's known_hosts and ~/.ssh's)", aliases: ['ls'], usage: 'known-hosts list [--json]', options: { json } },
      forget: { summary: "forget the app's saved keys of an address", usage: 'known-hosts forget ADDRESS [PORT] [--json]', options: { json } },
    },
  },
  install: {
    summary: 'plan a role on a host (diffs, exact commands) and apply it',
    bare: true,
    usage: `install HOST [--role ROLE] [--dry-run] [--json] [--yes] [--confirm-disk DEVICE] [--no-nfs] [--reboot]
     [--cache-number N] [--client-subnet CIDR] [--imgs IP] [--home IP] [--data IP] [--clients CIDR]`,
    args: ['host'],
    options: {
      role: { type: 'string', value: 'ROLE', help: 'imgs, rw, home or cache (else the saved or guessed one)', complete: ROLES },
      'dry-run': dryRun,
      json,
      yes,
      'confirm-disk': { type: 'string', value: 'DEVICE', help: 'the disk the disk step may format, named exactly (e.g. /dev/vdb)' },
      'no-nfs': { type: 'boolean', help: 'leave out the NFS exports and mounts' },
      reboot: { type: 'boolean', help: 'reboot after applying and check that every mount and service comes back' },
      'cache-number': { type: 'string', value: 'N', help: "a cache's number (cacheNN), which sets its client subnet" },
      'client-subnet': { type: 'string', value: 'CIDR', help: "a cache's client network, when not the guide's" },
      imgs: { type: 'string', value: 'IP', help: "imgs's address on iCBD-Net" },
      home: { type: 'string', value: 'IP', help: "home's address on iCBD-Net" },
      data: { type: 'string', value: 'IP', help: 'the data network address' },
      clients: { type: 'string', value: 'CIDR', help: 'the client networks allowed by the exports' },
    },
    subcommands: {
      trust: {
        summary: "SSH trust between every installed node, as the guide's table says",
        usage: 'install trust [--dry-run] [--json] [--yes]',
        options: { 'dry-run': dryRun, json, yes },
      },
    },
  },
  audit: {
    summary: 'every change made to a host and every command run, newest first',
    usage: 'audit [--host HOST] [--since TIME] [--until TIME] [--limit N] [--json]',
    options: {
      host: { type: 'string', value: 'HOST', help: 'only this host', complete: 'host' },
      since: { type: 'string', value: 'TIME', help: 'from this time: 2h, 30m, 7d ago, today, yesterday, or ISO 8601' },
      until: { type: 'string', value: 'TIME', help: 'up to this time (same forms)' },
      limit: { type: 'string', value: 'N', help: 'at most N entries' },
      json,
    },
  },
  lab: {
    summary: 'the demo lab: imgs, rw, home and caches as real hosts on this machine (root)',
    subcommands: {
      up: {
        summary: 'bring the lab up and add its hosts',
        usage: 'lab up [--caches N] [--nfs] [--no-add-hosts] [--link HOST=RATE[,HOST=RATE…]] [--json]',
        options: {
          caches: { type: 'string', value: 'N', help: 'how many cache nodes (1)' },
          link: { type: 'string', value: 'HOST=RATE,...', help: "give hosts' links a rate (50mbit, 100mbit, 1gbit) in both directions" },
          nfs: { type: 'boolean', help: 'boot rw, home and cache01 as qemu VMs, for real NFS' },
          'no-add-hosts': { type: 'boolean', help: 'leave the inventory as it is' },
          json,
        },
      },
      down: { summary: 'take the lab down; nothing of it is left', usage: 'lab down [--json]', options: { json } },
      status: { summary: 'its hosts and their state', usage: 'lab status [--json]', options: { json } },
      preflight: { summary: 'what this machine lacks to run the lab, and the fix', usage: 'lab preflight [--json]', options: { json } },
      selftest: { summary: 'prove the lab: jump host, mkfs, fstab across reboot, send/receive', usage: 'lab selftest [--json]', options: { json } },
      reset: labHost('back to pristine (empty disk, original /etc)', 'reset [HOST] [--json]'),
      stop: labHost('stop a host (an unreachable node)', 'stop HOST [--json]'),
      start: labHost('start a stopped host', 'start HOST [--json]'),
      cut: labHost("pull a host's cables: transfers stall", 'cut HOST [--json]'),
      heal: labHost('plug them back: transfers resume', 'heal HOST [--json]'),
      link: {
        summary: "give a host's link a rate in both directions (token bucket: this kernel has no netem, so no delay or loss), or off",
        usage: 'lab link HOST RATE|off [--json]',
        options: { json },
        args: ['host', ['off', '50mbit', '100mbit', '1gbit']],
      },
    },
  },
  snapshots: {
    summary: "images × snapshots × nodes; with HOST that node's snapshots (--subvolumes: its raw list)",
    usage: 'snapshots [HOST] [--image NAME] [--subvolumes] [--json]',
    options: {
      image: { type: 'string', value: 'NAME', help: 'only this image' },
      subvolumes: { type: 'boolean', help: "HOST's raw btrfs subvolume list" },
      json,
    },
    args: ['host'],
  },
  snapshot: {
    summary: 'take or delete a snapshot, add an image',
    subcommands: {
      create: {
        summary: "snapshot an image's working subvolume",
        usage: 'snapshot create IMAGE [--on HOST] [--json]',
        options: { on: { type: 'string', value: 'HOST', help: 'on this node (imgs)', complete: 'host' }, json },
      },
      delete: {
        summary: 'delete a snapshot (refused while a cache needs it as a parent)',
        usage: 'snapshot delete HOST:IMAGE@N [--force] [--json]',
        options: { force: { type: 'boolean', help: 'delete even so' }, json },
      },
      retire: {
        summary: "retire an image whole on a node: its snapshots and, on imgs, its working copy (refused while a cache carries it or a transfer uses it)",
        usage: 'snapshot retire HOST IMAGE [--force] [--json]',
        options: { force: { type: 'boolean', help: 'retire it even so (the reasons go to the audit log)' }, json },
        args: ['host'],
      },
      'add-image': { summary: "add an image to a node's repository", usage: 'snapshot add-image HOST IMAGE [--json]', options: { json }, args: ['host'] },
      info: {
        summary: "each node's copy of a snapshot: where it came from, what it follows, why retention keeps or would prune it",
        usage: 'snapshot info IMAGE@N [--du HOST] [--json]',
        options: { du: { type: 'string', value: 'HOST', help: "measure the copy's disk use there (btrfs filesystem du: reads every extent)", complete: 'host' }, json },
      },
    },
  },
  push: {
    summary: 'replicate a snapshot to nodes (full or incremental)',
    usage: 'push HOST:IMAGE[@N] --to HOST[,HOST...] [--compress CODEC] [--relay|--tcp] [--limit-rate RATE] [--setup-keys] [--dry-run] [--json]',
    options: { to: { type: 'string', value: 'HOST,...', help: 'the receiving nodes', complete: 'host' }, ...SENDING },
  },
  sync: {
    summary: 'the newest snapshot of every carried image to every cache lacking it',
    usage: 'sync [CACHE...] [--compress CODEC] [--relay|--tcp] [--limit-rate RATE] [--setup-keys] [--dry-run] [--json]',
    options: SENDING,
    args: ['host'],
  },
  prune: {
    summary: 'delete the snapshots retention does not keep; says why each survivor stays',
    usage: 'prune [NODE] [--dry-run] [--json]',
    options: { 'dry-run': { type: 'boolean', help: 'show what would go and why the rest stays; delete nothing' }, json },
    args: ['host'],
  },
  replication: {
    summary: 'per node: repository path, carried images, transfer limit, address, retention',
    subcommands: {
      settings: { summary: "the nodes' replication settings", usage: 'replication settings [NODE] [--json]', options: { json }, args: ['host'] },
      carry: {
        summary: 'which images a cache carries',
        usage: 'replication carry CACHE (--all | --none | IMAGE...) [--json]',
        options: { all: { type: 'boolean', help: 'every image' }, none: { type: 'boolean', help: 'no image' }, json },
        args: ['host'],
      },
      retain: {
        summary: 'what prune keeps on a node, or on one image of it (default per role: caches the newest 3, imgs all)',
        usage: 'replication retain NODE [--image NAME] (--keep N | --keep-within DURATION | --default)... [--json]',
        options: {
          image: { type: 'string', value: 'NAME', help: 'for this image only' },
          keep: { type: 'string', value: 'N', help: 'keep the newest N snapshots' },
          'keep-within': { type: 'string', value: 'DURATION', help: 'keep those younger than DURATION (90m, 12h, 14d, 2w)' },
          default: { type: 'boolean', help: "back to the node's (or the role's) policy" },
          json,
        },
        args: ['host'],
      },
      set: {
        summary: "change a node's settings",
        usage: 'replication set NODE [--root PATH] [--work-root PATH] [--limit N] [--stall SECONDS] [--resume-wait MINUTES] [--limit-rate RATE|none] [--address ADDR | --inventory-address] [--json]',
        options: {
          root: { type: 'string', value: 'PATH', help: 'where its snapshots live' },
          'work-root': { type: 'string', value: 'PATH', help: "where its images' working subvolumes live" },
          limit: { type: 'string', value: 'N', help: 'at most N transfers at once to or from it' },
          stall: { type: 'string', value: 'SECONDS', help: 'a transfer with no data moving for this long is stalled, twice this long failed (60)' },
          'resume-wait': { type: 'string', value: 'MINUTES', help: 'how long a push that lost this node mid-stream waits for it to resume, then fails (30)' },
          'limit-rate': { type: 'string', value: 'RATE', help: 'the default cap of transfers to it, bytes per second (20M), or none' },
          address: { type: 'string', value: 'ADDR', help: 'the address other nodes reach it on for replication' },
          'inventory-address': { type: 'boolean', help: 'use its inventory address again' },
          json,
        },
        args: ['host'],
      },
    },
  },
  upload: {
    summary: "send a file of this machine into an image's working subvolume or the node's ISOs",
    usage: `upload FILE HOST:IMAGE [--name NAME] [--overwrite] [--limit-rate RATE] [--json]
     upload FILE HOST:iso [--name NAME] [--overwrite] [--limit-rate RATE] [--json]`,
    options: {
      name: { type: 'string', value: 'NAME', help: 'the name on the node (the file\'s own)' },
      overwrite: { type: 'boolean', help: 'replace a file of that name' },
      'limit-rate': SENDING['limit-rate'],
      json,
    },
    args: ['file'],
  },
  transfers: {
    summary: 'every transfer, running and past',
    bare: true,
    usage: 'transfers [--watch] [--json]',
    options: { watch: { type: 'boolean', help: 'show again every second; with --json, a JSON line per transfer each time it changes' }, json },
    subcommands: {
      resume: {
        summary: 'go on with a push interrupted when its console went away: only what its receivers lack is sent',
        usage: 'transfers resume ID [--json]',
        options: { json },
      },
    },
  },
  cancel: { summary: 'cancel a transfer (what it left half-written is deleted)', usage: 'cancel ID [--json]', options: { json } },
  schedule: {
    summary: 'replication that runs by itself: when, what, how, last and next run',
    subcommands: {
      add: {
        summary: 'add a schedule (or replace one, with --replace)',
        usage:
          'schedule add NAME (--at HH:MM | --every DURATION | --on-snapshot [--within DURATION]) [--images IMAGE,...] [--caches CACHE,...] [--relay|--tcp] [--compress CODEC] [--rate-limit RATE] [--window HH:MM-HH:MM] [--disabled] [--replace] [--json]',
        options: {
          at: { type: 'string', value: 'HH:MM', help: 'every day at this local time' },
          every: { type: 'string', value: 'DURATION', help: 'every so long: minutes, or 10m, 6h, 1d (one minute at least)' },
          'on-snapshot': { type: 'boolean', help: 'when imgs has a new snapshot of a carried image' },
          within: { type: 'string', value: 'DURATION', help: 'with --on-snapshot: at most this long after it appears (10m)' },
          images: { type: 'string', value: 'IMAGE,...', help: 'only these images (default: every carried image)' },
          caches: { type: 'string', value: 'CACHE,...', help: 'only these caches (default: every cache)', complete: 'host' },
          relay: SENDING.relay,
          tcp: SENDING.tcp,
          compress: SENDING.compress,
          'rate-limit': { type: 'string', value: 'RATE', help: 'cap each transfer, bytes per second: 50M, 1.5G' },
          window: { type: 'string', value: 'HH:MM-HH:MM', help: 'start runs only inside this local time window (20:00-06:00 spans midnight)' },
          disabled: { type: 'boolean', help: 'keep it, but do not run it' },
          replace: { type: 'boolean', help: 'replace the schedule of that name' },
          json,
        },
      },
      list: { summary: 'every schedule with its last and next run', aliases: ['ls'], usage: 'schedule list [--json]', options: { json } },
      rm: { summary: 'remove a schedule', aliases: ['remove'], usage: 'schedule rm NAME [--json]', options: { json } },
      'run-now': { summary: 'run a schedule now, in this process, and wait for its end', usage: 'schedule run-now NAME [--json]', options: { json } },
      notify: {
        summary: 'a command run after scheduled runs, with the outcome in its environment (ICBD_SCHEDULE, ICBD_OUTCOME, ICBD_MESSAGE)',
        usage: 'schedule notify (COMMAND [--always] | --off) [--json]',
        options: {
          always: { type: 'boolean', help: 'after every run, not only failed ones' },
          off: { type: 'boolean', help: 'run no command' },
          json,
        },
      },
    },
  },
  daemon: {
    summary: 'run the schedules headless, until stopped (under systemd: --install-unit writes the unit)',
    usage: 'daemon [--install-unit [--unit-path PATH] [--user USER] [--force] | --print-unit [--user USER]] [--json]',
    options: {
      'install-unit': { type: 'boolean', help: 'write the systemd unit that runs the daemon (/etc/systemd/system/icbd-daemon.service)' },
      'print-unit': { type: 'boolean', help: 'print that unit instead' },
      'unit-path': { type: 'string', value: 'PATH', help: 'write the unit here instead', complete: 'file' },
      user: { type: 'string', value: 'USER', help: 'the user the daemon runs as (the current one)' },
      force: { type: 'boolean', help: 'replace a different unit already there' },
      json: { type: 'boolean', help: 'the unit, or what was written, as JSON; running, each log line as a JSON line' },
    },
  },
  version: { summary: 'print the version', usage: 'version [--json]', options: { json } },
  help: { summary: "a command's usage and options", usage: 'help [COMMAND [SUBCOMMAND]]' },
} as const satisfies Readonly<Record<string, CommandSpec>>;

/** Options every command takes before its name, like git's. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  home: { type: 'string', value: 'DIR', help: "the data directory (else $ICBD_HOME, else the app's own)", complete: 'file' },
  'accept-new': { type: 'boolean', help: 'trust and save host keys seen for the first time (OpenSSH accept-new); a changed key is always refused' },
};

/** Exit statuses, as `icbd help` and the man page list them. */
export const EXIT_CODES: readonly (readonly [string, string])[] = [
  ['0', 'success'],
  ['1', 'the operation failed, a check found problems, or a transfer did not finish'],
  ['2', 'bad usage or invalid input: nothing was changed'],
  ['130', 'interrupted (Ctrl-C): what the command started was cancelled and cleaned up first'],
  ['N', "exec: the remote command's exit status; 255 when it could not be run (as ssh)"],
];

/** The spec a command line names: the command, then its subcommand where it has one. */
export function specOf(words: readonly string[]): { path: string[]; spec: CommandSpec } | undefined {
  const [name, sub] = words;
  const command = name === undefined ? undefined : (COMMANDS as Readonly<Record<string, CommandSpec>>)[name];
  if (!command || name === undefined) return undefined;
  const found = sub === undefined ? undefined : subcommand(command, sub);
  return found ? { path: [name, found[0]], spec: found[1] } : { path: [name], spec: command };
}

/** A subcommand by its name or one of its aliases. */
export function subcommand(command: CommandSpec, word: string): [string, CommandSpec] | undefined {
  return Object.entries(command.subcommands ?? {}).find(([name, s]) => name === word || s.aliases?.includes(word));
}
