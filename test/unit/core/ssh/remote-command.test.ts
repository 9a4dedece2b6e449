import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { launchLine, stopGroupArgv, writeArgv } from '../../../../electron/core/ssh/remote-command.ts';
import { command, quote } from '../../../../shared/shell.ts';

const HOSTILE = [
  'plain',
  '',
  'two words',
  "it's",
  '"double"',
  "'",
  "''",
  'a;rm -rf /tmp/nothing-here',
  '$(echo pwned)',
  '`echo pwned`',
  '${HOME}',
  '$HOME',
  'line1\nline2',
  'tab\there',
  '\\backslash\\',
  '* ? [a-z]',
  '~root',
  '-n',
  'A=b',
  '!event',
  'a|b&c>d<e',
  '#not a comment',
  'sn\u00f8w \u2603 \u65e5\u672c \ud83d\ude00',
  'if',
  'done',
  '{a,b}',
];

// Runs a line in a real POSIX shell and returns the arguments printf saw, NUL-separated.
const shell = (line: string) => execFileSync('sh', ['-c', line], { encoding: 'utf8' });

describe('shell quoting', () => {
  it.each(HOSTILE)('passes %j through sh -c unchanged', (s) => {
    expect(shell(`printf '%s\\0' ${quote(s)}`)).toBe(`${s}\0`);
  });

  it('builds a command whose argv is exactly the array, whatever it holds', () => {
    expect(shell(command(['printf', '%s\\0', ...HOSTILE]))).toBe(HOSTILE.map((s) => `${s}\0`).join(''));
  });

  it('leaves plain words bare so audit entries stay readable', () => {
    expect(command(['btrfs', 'subvolume', 'show', '/var/lib/icbd/images/vm1@2024-01-01'])).toBe('btrfs subvolume show /var/lib/icbd/images/vm1@2024-01-01');
    expect(command(['echo', 'A=b', 'if'])).toBe("echo 'A=b' 'if'");
    expect(command(['if', 'x'])).toBe("'if' x");
  });

  it('refuses what cannot be an argument', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
    expect(() => command([])).toThrow(/program/);
  });

  it('launches under setsid, printing the process group first', () => {
    const out = shell(launchLine(['sh', '-c', 'printf "%s|" "$@"; ps -o pgid= -p $$', 'x', 'a b', '$(x)']));
    const [pgid, rest] = out.split('\n');
    expect(rest!.startsWith('a b|$(x)|')).toBe(true);
    expect(rest!.slice('a b|$(x)|'.length).trim()).toBe(pgid);
  });

  it('never signals group 0 or 1', () => {
    expect(() => stopGroupArgv(1)).toThrow();
    expect(() => stopGroupArgv(0)).toThrow();
    expect(stopGroupArgv(1234).at(-1)).toBe('1234');
    expect(writeArgv('/etc/fstab', 10, 0o644).slice(4)).toEqual(['/etc/fstab', '10', '644', 'rename', '']);
  });
});
