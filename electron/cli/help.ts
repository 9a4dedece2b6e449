import { COMMANDS, EXIT_CODES, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './commands.ts';

/** Two columns, the second aligned and wrapped under itself, as in `git help` and `ssh -h`. */
function columns(rows: readonly (readonly [string, string])[], width: number): string[] {
  const left = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  const indent = ' '.repeat(left + 2);
  return rows.flatMap(([l, r]) => {
    const [first = '', ...rest] = wrap(r, Math.max(30, width - left - 2));
    // A name too long for the column gets a line of its own, its text under the column.
    const head = l.length + 2 > left ? [`  ${l}`, `${indent}${first}`] : [`  ${l.padEnd(left)}${first}`];
    return [...head, ...rest.map((s) => `${indent}${s}`)].map((s) => s.trimEnd());
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

export function optionLabel(name: string, o: OptionSpec): string {
  return `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}${o.multiple ? ' ...' : ''}`;
}

const optionRows = (options: Readonly<Record<string, OptionSpec>>) => Object.entries(options).map(([n, o]) => [optionLabel(n, o), o.help] as const);

/** A command in a few words: its subcommands, else its usage without the options. */
export function synopsis(name: string, c: CommandSpec): string {
  if (c.subcommands && !c.bare) return `${name} ${Object.keys(c.subcommands).join('|')}`;
  return (c.usage ?? name).split('\n')[0]!.replace(/ \[--.*$/, '');
}

/** `icbd help`: every command in a line, the global options, the exit statuses. */
export function mainHelp(width = 100): string {
  const rows = Object.entries(COMMANDS as Readonly<Record<string, CommandSpec>>).map(([name, c]) => [synopsis(name, c), c.summary] as const);
  return [
    'usage: icbd [--home DIR] [--accept-new] COMMAND [ARGS...]',
    '',
    'commands:',
    ...columns(rows, width),
    '',
    'global options (before the command):',
    ...columns(optionRows(GLOBAL_OPTIONS), width),
    '',
    'exit status:',
    ...columns(EXIT_CODES, width),
    '',
    "`icbd help COMMAND` (or `icbd COMMAND --help`) shows a command's usage and options. Most commands",
    'take --json for scripts. Colour follows NO_COLOR and TERM=dumb; progress is shown only on a terminal.',
  ].join('\n');
}

/** `icbd help hosts add`, `icbd hosts add --help`: usage, what it does, its options. */
export function commandHelp(path: readonly string[], spec: CommandSpec, width = 100): string {
  const out: string[] = [];
  if (spec.usage) out.push(...usageLines(spec.usage));
  if (spec.subcommands) {
    if (!spec.usage) out.push(`usage: icbd ${path.join(' ')} SUBCOMMAND [ARGS...]`);
    out.push('', spec.summary, '', 'subcommands:');
    out.push(...columns(Object.entries(spec.subcommands).map(([n, s]) => [n + (s.aliases?.length ? ` (${s.aliases.join(', ')})` : ''), s.summary] as const), width));
    out.push('', `\`icbd help ${path.join(' ')} SUBCOMMAND\` shows a subcommand's options.`);
  } else out.push('', spec.summary);
  if (spec.options && Object.keys(spec.options).length) out.push('', 'options:', ...columns(optionRows(spec.options), width));
  return out.join('\n');
}

/** A usage as printed: `usage: icbd …`, further forms under it, an option list's continuation indented. */
export function usageLines(usage: string): string[] {
  return usage.split('\n').map((line, i) => {
    const l = line.trim();
    return i === 0 ? `usage: icbd ${l}` : l.startsWith('[') ? `         ${l}` : `       icbd ${l}`;
  });
}
