/**
 * The CLI's conventions as pure logic: the command table against its parser and its help, the
 * nearest option or command, --since's times, the audit's time format; and, on a real pty, colour
 * (hasColors: NO_COLOR, TERM=dumb) and progress lines cut to the terminal's width.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { formatTime } from '../../../shared/units.ts';
import { nearest, parse } from '../../../electron/cli/args.ts';
import { COMMANDS, EXIT_CODES, type CommandSpec } from '../../../electron/cli/commands.ts';
import { commandHelp, mainHelp } from '../../../electron/cli/help.ts';
import { parseTime } from '../../../electron/cli/time.ts';
import { inPty, textRuns } from '../../pty.ts';

const TABLE = COMMANDS as Readonly<Record<string, CommandSpec>>;
/** Every command and subcommand that runs (has a usage), with its path. */
const LEAVES = Object.entries(TABLE).flatMap(([name, c]) => [
  ...(c.usage ? [[name, c] as const] : []),
  ...Object.entries(c.subcommands ?? {}).map(([sub, s]) => [`${name} ${sub}`, s] as const),
]);

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('did not throw');
}

describe('the command table', () => {
  it.each(LEAVES)('%s: its usage names every option it parses, and its help lists them', (path, spec) => {
    const help = commandHelp(path.split(' '), spec);
    expect(help).toContain(`usage: icbd ${spec.usage!.split('\n')[0]}`);
    for (const [name, o] of Object.entries(spec.options ?? {})) {
      expect(spec.usage, `--${name} in the usage of ${path}`).toContain(`--${name}`);
      expect(help).toContain(`--${name}${o.type === 'string' ? ` ${o.value}` : ''}`);
      // Long help wraps under its column.
      expect(help.replace(/\s+/g, ' ')).toContain(o.help);
    }
  });

  it('lists every command and the exit statuses in icbd help', () => {
    const help = mainHelp();
    for (const name of Object.keys(TABLE)) expect(help).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    for (const [code, what] of EXIT_CODES) expect(help).toMatch(new RegExp(`^  ${code} +${what.slice(0, 20).replace(/[()]/g, '\\$&')}`, 'm'));
    expect(EXIT_CODES.map(([c]) => c)).toEqual(['0', '1', '2', '130', 'N']);
  });

  it('gives --json to every command that prints a result', () => {
    const without = LEAVES.filter(([, s]) => !s.options || !('json' in s.options)).map(([p]) => p);
    // help is text.
    expect(without).toEqual(['help']);
  });
});

describe('suggestions', () => {
  it('names the nearest option, command or subcommand, and nothing when none is near', () => {
    expect(nearest('jsn', ['json', 'watch'])).toBe('json');
    expect(nearest('hsots', Object.keys(TABLE))).toBe('hosts');
    expect(nearest('dry', Object.keys(COMMANDS.push.options))).toBe('dry-run');
    expect(nearest('compres', Object.keys(COMMANDS.push.options))).toBe('compress');
    expect(nearest('banana', Object.keys(TABLE))).toBeUndefined();
    expect(nearest('x', ['json'])).toBeUndefined();
  });

  it('an unknown option is a usage error naming the nearest and the usage', () => {
    const err = thrown(() => parse(['--jsn'], COMMANDS.hosts.subcommands.list));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe("Unknown option '--jsn'. Did you mean --json?\nusage: icbd hosts list [--json]");
    expect(thrown(() => parse(['--to', 'c1', '--realy', 'imgs:w'], COMMANDS.push)).message).toMatch(/^Unknown option '--realy'\. Did you mean --relay\?\nusage: icbd push /);
    expect(thrown(() => parse(['--zzzzzz'], COMMANDS.transfers)).message).not.toMatch(/Did you mean/);
  });

  it('parses with the types of the table', () => {
    const { values, positionals } = parse(['a.conf', '--role', 'x=cache', '--role', 'y=imgs', '--add'], COMMANDS.hosts.subcommands['import-ssh-config']);
    expect(values).toEqual({ role: ['x=cache', 'y=imgs'], add: true });
    expect(positionals).toEqual(['a.conf']);
  });
});

describe('audit --since and --until', () => {
  // A local time, whatever the zone the tests run in.
  const now = new Date(2026, 11, 6, 15, 30, 0);

  it('reads 2h, 30m, 7d (ago), now, today, yesterday', () => {
    expect(parseTime('2h', 'since', now)).toBe(new Date(now.getTime() - 2 * 3600_000).toISOString());
    expect(parseTime('30m', 'since', now)).toBe(new Date(now.getTime() - 30 * 60_000).toISOString());
    expect(parseTime('7d ago', 'since', now)).toBe(new Date(now.getTime() - 7 * 86_400_000).toISOString());
    expect(parseTime('now', 'until', now)).toBe(now.toISOString());
    expect(parseTime('today', 'since', now)).toBe(new Date(2026, 11, 6).toISOString());
    expect(parseTime('Yesterday', 'since', now)).toBe(new Date(2026, 11, 5).toISOString());
  });

  it('reads ISO 8601: with an offset as given, without one as local time, a date alone as local midnight', () => {
    expect(parseTime('2026-11-26T09:00:00+01:00', 'since', now)).toBe('2026-11-26T08:00:00.000Z');
    expect(parseTime('2026-11-26T09:00:00Z', 'since', now)).toBe('2026-11-26T09:00:00.000Z');
    expect(parseTime('2026-11-26 09:00', 'since', now)).toBe(new Date(2026, 10, 26, 9, 0).toISOString());
    expect(parseTime('2026-11-26', 'since', now)).toBe(new Date(2026, 10, 26).toISOString());
  });

  it('refuses anything else, naming the forms it takes', () => {
    for (const bad of ['yeserday', '2 hours', '26/11/2026', '2026-13-45', '']) {
      const err = thrown(() => parseTime(bad, 'since', now));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(/^--since takes 2h, 30m, 7d \(ago\), today, yesterday or an ISO time/);
    }
  });
});

describe('times shown', () => {
  it('are local (or the given zone) with the zone named, sortable', () => {
    const at = '2026-12-06T16:40:12.345Z';
    expect(formatTime(at, 'UTC')).toBe('2026-12-06 16:40:12 UTC');
    expect(formatTime(at, 'America/New_York')).toBe('2026-12-06 11:40:12 EST');
    expect(formatTime(Date.parse('2026-07-01T00:05:00Z'), 'Europe/Lisbon')).toBe('2026-07-01 01:05:00 GMT+1');
    expect(formatTime(at)).toMatch(/^2026-12-0[67] \d{2}:40:12 \S+$/);
  });
});

// Node processes on a pty: seconds each on a loaded machine.
describe('on a terminal', { timeout: 60_000 }, () => {
  const tsx = (code: string) => `exec node --import tsx --input-type=module -e '${code}'`;
  // Node also turns colours off under CI=… (and FORCE_COLOR overrides all): each case starts without them.
  const colours = async (env: string) => {
    const run = inPty(`unset CI FORCE_COLOR NO_COLOR NODE_DISABLE_COLORS; ${env} ${tsx('const m = await import("./electron/cli/output.ts"); process.stdout.write(String(m.colours()))')}`);
    expect(await run.exit).toMatchObject({ code: 0 });
    return run.output().trim();
  };

  it('colours only where the terminal and the operator allow it (hasColors: NO_COLOR, TERM=dumb)', async () => {
    expect(await colours('TERM=xterm-256color')).toBe('true');
    expect(await colours('TERM=xterm-256color NO_COLOR=1')).toBe('false');
    expect(await colours('TERM=dumb')).toBe('false');
  });

  it('draws a progress line per running transfer, each cut to the width, and clears them', async () => {
    const draw = [
      'const { liveBlock } = await import("./electron/cli/progress.ts");',
      'const b = liveBlock();',
      'const long = (n) => `win10@${n} → cache01,cache02,cache03  running  1.50 GiB / 3.00 GiB  112 MiB/s  50 %  ETA 14 s`;',
      'b.draw([long(1), long(2)]); b.draw([long(1), long(2)]); b.draw([long(2)]); b.clear(); console.log("end");',
    ].join(' ');
    const run = inPty(tsx(draw), { cols: 40 });
    expect(await run.exit).toMatchObject({ code: 0 });
    const runs = textRuns(run.output()).filter(Boolean);
    expect(runs.filter((r) => r.startsWith('win10@'))).toHaveLength(5);
    for (const r of runs) expect([...r].length, r).toBeLessThan(40);
    expect(runs.filter((r) => r.startsWith('win10@')).every((r) => r.endsWith('…'))).toBe(true);
    // Each redraw moves up over the lines drawn before: two, then two, then one.
    // eslint-disable-next-line no-control-regex -- the escape is what is looked for
    expect(run.output().match(/\x1b\[\d+F/g)).toEqual(['\x1b[2F', '\x1b[2F', '\x1b[1F']);
    expect(runs.at(-1)).toBe('end');
  });
});
