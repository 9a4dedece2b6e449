import { COMMANDS, EXIT_CODES, GLOBAL_OPTIONS, type CommandSpec, type Completion, type OptionSpec } from './commands.ts';
import { optionLabel } from './help.ts';

/**
 * The bash and zsh completions and the man page, generated from the command table at build time
 * (build/bundle-electron.mjs) and shipped in the packages, so they accept exactly what the CLI does.
 */

const TABLE = COMMANDS as Readonly<Record<string, CommandSpec>>;

interface Entry {
  /** `hosts add`: what the completion walks to. */
  path: string;
  spec: CommandSpec;
}

/** Every command and subcommand (under each of its names), the commands first. */
function entries(): Entry[] {
  return Object.entries(TABLE).flatMap(([name, c]) => [
    { path: name, spec: c },
    ...Object.entries(c.subcommands ?? {}).flatMap(([sub, s]) => [sub, ...(s.aliases ?? [])].map((n) => ({ path: `${name} ${n}`, spec: s }))),
  ]);
}

/** A `case` arm's pattern: the words quoted for the shell. */
const pattern = (words: readonly string[]) => words.map((w) => `'${w}'`).join('|');

/** How a completion is told to the shell functions: `host` or `file`, then `=word word` for fixed words. */
function kind(c: Completion | undefined): string | undefined {
  if (c === undefined) return undefined;
  return c === 'host' || c === 'file' ? c : `=${c.join(' ')}`;
}

/**
 * The table as shell functions that bash and zsh both run (`case` is the same in both): which
 * options take a value, the subcommands, the options of each path, what a value or the Nth
 * positional word completes to.
 */
function tableFunctions(): string {
  const all = entries();
  const names = Object.keys(TABLE);
  const valued = (path: string, options: Readonly<Record<string, OptionSpec>>) =>
    Object.entries(options)
      .filter(([, o]) => o.type === 'string')
      .map(([n, o]) => [`${path}|--${n}`, kind(o.complete)] as const);
  const values = [...valued('', GLOBAL_OPTIONS), ...all.flatMap((e) => valued(e.path, e.spec.options ?? {}))];
  const subs = all.filter((e) => e.path.includes(' ')).map((e) => e.path);
  const optionWords = (e: Entry) => [...Object.keys(e.spec.options ?? {}).map((n) => `--${n}`), '--help'].join(' ');
  const arms = (rows: readonly (readonly [string, string | undefined])[]) =>
    rows.filter(([, v]) => v !== undefined).map(([k, v]) => `    ${pattern([k])}) echo '${v}' ;;`);
  // The first word after a command with subcommands is one of them (or, for install, also a host).
  const args = all.flatMap((e) => {
    // help completes to the commands it explains.
    const list = e.path === 'help' ? [names] : (e.spec.args ?? []);
    const subs = e.spec.subcommands ? `=${Object.keys(e.spec.subcommands).join(' ')}` : undefined;
    if (subs && !e.spec.bare) return [[`0|${e.path}`, subs] as const];
    return list.map((c, i) => [`${i}|${e.path}`, `${kind(c) ?? ''}${i === 0 && subs ? subs : ''}`] as const);
  });
  const lastArg = all.filter((e) => (e.spec.args?.length ?? 0) > 0).map((e) => [e.path, String(e.spec.args!.length - 1)] as const);
  return [
    '# Whether OPTION of PATH takes a value (the next word).',
    '_icbd_valued() {',
    '  case "$1|$2" in',
    `    ${pattern(values.map(([k]) => k))}) return 0 ;;`,
    '  esac',
    '  return 1',
    '}',
    '',
    '# Whether COMMAND WORD names a subcommand.',
    '_icbd_sub() {',
    '  case "$1 $2" in',
    `    ${pattern(subs)}) return 0 ;;`,
    '  esac',
    '  return 1',
    '}',
    '',
    '# The options of PATH ("" before the command).',
    '_icbd_options() {',
    '  case "$1" in',
    `    '') echo '${Object.keys(GLOBAL_OPTIONS).map((n) => `--${n}`).join(' ')} --help --version' ;;`,
    ...all.map((e) => `    ${pattern([e.path])}) echo '${optionWords(e)}' ;;`),
    '  esac',
    '}',
    '',
    '# What the value of OPTION of PATH completes to: host or file, then =WORDS.',
    '_icbd_optarg() {',
    '  case "$1|$2" in',
    ...arms(values),
    '  esac',
    '}',
    '',
    '# What the Nth word after PATH completes to (the last kind repeats).',
    '_icbd_arg() {',
    '  local n=$2',
    '  case "$1" in',
    ...lastArg.map(([path, last]) => `    ${pattern([path])}) [ "$n" -gt ${last} ] && n=${last} ;;`),
    '  esac',
    '  case "$n|$1" in',
    `    '0|') echo '=${names.join(' ')}' ;;`,
    ...arms(args),
    '  esac',
    '}',
    '',
    "# The inventory's host names, as the CLI itself lists them.",
    '_icbd_hosts() {',
    `  icbd hosts list --json 2>/dev/null | sed -n 's/^    "name": "\\(.*\\)",\\{0,1\\}$/\\1/p'`,
    '}',
    '',
    '# Walks the words before the one being completed: sets _icbd_path (the command and subcommand),',
    '# _icbd_n (positional words after it) and _icbd_value (the option whose value is being typed).',
    '_icbd_walk() {',
    '  local w skip=',
    '  _icbd_path= _icbd_n=0 _icbd_value= _icbd_dashes=',
    '  for w in "$@"; do',
    '    if [ -n "$skip" ]; then skip=; continue; fi',
    '    case $w in',
    '      --) _icbd_dashes=1; return ;;',
    '      --*=*) ;;',
    '      -*) _icbd_valued "$_icbd_path" "$w" && skip=$w ;;',
    '      *)',
    '        if [ -z "$_icbd_path" ]; then _icbd_path=$w',
    '        elif [ "$_icbd_n" = 0 ] && _icbd_sub "$_icbd_path" "$w"; then _icbd_path="$_icbd_path $w"',
    '        else _icbd_n=$((_icbd_n + 1)); fi ;;',
    '    esac',
    '  done',
    '  _icbd_value=$skip',
    '}',
  ].join('\n');
}

const HEADER = '# Generated from the icbd command table (electron/cli/commands.ts) by build/bundle-electron.mjs: do not edit.';

export function bashCompletion(): string {
  return `${HEADER}
# bash completion for icbd, the iCBD Console CLI.

${tableFunctions()}

_icbd() {
  local cur=\${COMP_WORDS[COMP_CWORD]} what
  COMPREPLY=()
  _icbd_walk "\${COMP_WORDS[@]:1:COMP_CWORD-1}"
  [ -n "$_icbd_dashes" ] && return 0
  if [ -n "$_icbd_value" ]; then what=$(_icbd_optarg "$_icbd_path" "$_icbd_value")
  elif [[ $cur == -* ]]; then what="=$(_icbd_options "$_icbd_path")"
  else what=$(_icbd_arg "$_icbd_path" "$_icbd_n"); fi
  case $what in
    host*) mapfile -t COMPREPLY < <(compgen -W "$(_icbd_hosts)" -- "$cur") ;;
    file*) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
  esac
  case $what in
    *=*) COMPREPLY+=($(compgen -W "\${what#*=}" -- "$cur")) ;;
  esac
}
complete -F _icbd icbd
`;
}

export function zshCompletion(): string {
  return `#compdef icbd
${HEADER}
# zsh completion for icbd, the iCBD Console CLI.

${tableFunctions()}

_icbd() {
  local cur=\${words[CURRENT]} what
  _icbd_walk "\${(@)words[2,CURRENT-1]}"
  [[ -n $_icbd_dashes ]] && { _normal; return; }
  if [[ -n $_icbd_value ]]; then what=$(_icbd_optarg "$_icbd_path" "$_icbd_value")
  elif [[ $cur == -* ]]; then what="=$(_icbd_options "$_icbd_path")"
  else what=$(_icbd_arg "$_icbd_path" "$_icbd_n"); fi
  case $what in
    host*) compadd -- \${(f)"$(_icbd_hosts)"} ;;
    file*) _files ;;
  esac
  case $what in
    *=*) compadd -- \${=what#*=} ;;
  esac
}

_icbd "$@"
`;
}

/** Text for groff: backslashes and hyphens as groff reads them, no line taken for a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    // groff reads ASCII: anything else as its Unicode escape (× is \[u00D7]).
    .replace(/[^\n\x20-\x7e]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function optionItems(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).flatMap(([n, o]) => ['.TP', `.B ${roff(optionLabel(n, o))}`, roff(o.help)]);
}

/** The man page, icbd(1). */
export function manPage(version: string): string {
  const leaves = entries().filter((e) => !e.spec.subcommands || e.spec.bare);
  const seen = new Set<CommandSpec>();
  const commands = leaves.flatMap((e) => {
    if (seen.has(e.spec)) return [];
    seen.add(e.spec);
    const usage = (e.spec.usage ?? e.path).split('\n').map((l) => l.trim());
    return [
      '.TP',
      ...usage.map((l, i) => `${i ? '.TQ\n' : ''}.B icbd ${roff(l.startsWith('[') ? `${e.path} … ${l}` : l)}`),
      roff(e.spec.summary.replace(/^./, (c) => c.toUpperCase()) + '.'),
      ...(e.spec.options && Object.keys(e.spec.options).length ? ['.RS', ...optionItems(e.spec.options), '.RE'] : []),
    ];
  });
  return [
    `.TH ICBD 1 "" "iCBD Console ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'icbd \\- install, replicate and watch an iCBD platform over SSH',
    '.SH SYNOPSIS',
    '.B icbd',
    '[\\fB\\-\\-home\\fR \\fIDIR\\fR] [\\fB\\-\\-accept\\-new\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR ...]',
    '.br',
    '.B icbd help',
    '[\\fICOMMAND\\fR [\\fISUBCOMMAND\\fR]]',
    '.SH DESCRIPTION',
    roff(
      'icbd is the command line of iCBD Console: it keeps the host inventory, installs the platform\'s servers (imgs, rw, home, caches) from the installation guide with a dry run and a diff of every change, replicates read-only btrfs snapshots of VM images to the caches, and follows every transfer. It runs the same core as the window, on the same data directory, so both see the same inventory, transfers and audit log.',
    ),
    '.PP',
    roff(
      'SSH behaves as OpenSSH: host keys are checked on every hop, an unknown key is asked about on a terminal (or accepted with --accept-new), a changed key is refused. Tables are for people; --json prints the result as JSON for scripts. Progress is drawn on stderr only when stdout and stderr are a terminal, cut to its width; a script gets the result alone.',
    ),
    '.SH GLOBAL OPTIONS',
    roff('Given before the command.'),
    ...optionItems(GLOBAL_OPTIONS),
    '.TP',
    '.B \\-h, \\-\\-help',
    roff("After a command: that command's usage and options, on stdout."),
    '.SH COMMANDS',
    ...commands,
    '.SH EXIT STATUS',
    ...EXIT_CODES.flatMap(([code, what]) => ['.TP', `.B ${code}`, roff(what.replace(/^./, (c) => c.toUpperCase()) + '.')]),
    '.SH ENVIRONMENT',
    '.TP',
    '.B ICBD_HOME',
    roff("The data directory when --home is not given; else the app's own (~/.config/iCBD Console on Linux)."),
    '.TP',
    '.B NO_COLOR, TERM',
    roff('No colour when NO_COLOR is set or TERM is dumb (FORCE_COLOR forces it), as Node\'s hasColors() reads them.'),
    '.TP',
    '.B ICBD_LAB_DIR, ICBD_LAB_CACHE, ICBD_LAB_MIRROR',
    roff("The demo lab's state directory (/var/lib/icbd-lab), its base images (/var/cache/icbd-lab) and the Debian mirror it builds them from."),
    '.SH FILES',
    '.TP',
    '.I ~/.ssh/config, ~/.ssh/known_hosts',
    roff('Read as OpenSSH reads them (hosts import-ssh-config; host keys).'),
    '.TP',
    '.I DATA/known_hosts',
    roff("The host keys the app itself accepted, in the data directory."),
    '.SH EXAMPLES',
    '.nf',
    roff(
      [
        'icbd hosts add cache01 --address 10.0.1.11 --role cache --jump imgs',
        'icbd install cache01 --role cache --dry-run',
        'icbd push imgs:win10@3 --to cache01,cache02 --compress zstd',
        "icbd transfers --watch --json | jq -r 'select(.state == \"done\") | .id'",
        'icbd audit --host cache01 --since yesterday',
      ].join('\n'),
    ),
    '.fi',
    '.SH SEE ALSO',
    '.BR ssh (1),',
    '.BR ssh_config (5),',
    '.BR btrfs\\-send (8),',
    '.BR btrfs\\-receive (8)',
    '',
  ].join('\n');
}
