/**
 * The one place where remote command lines are built. A remote command is always an argv array
 * of validated names and data; each word is quoted here so that the remote shell sees exactly
 * these words, whatever they contain. Free command strings exist only for the operator's own
 * `icbd exec HOST -- CMD`, and those never pass through here.
 */

// Words made only of these characters mean the same quoted or not; leaving them bare keeps audit
// entries readable. `=` is excluded (a bare first word `A=b` is an assignment, not a command), and
// so is a leading `~` (tilde expansion) by not being in the set at all.
const BARE = /^[A-Za-z0-9_@%+,./:-]+$/;

// A bare first word that is a reserved word would be parsed as syntax, not run as a command.
const RESERVED = new Set([
  'if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in',
  'function', 'time', 'coproc',
]);

/** POSIX single-quote quoting: inside '…' nothing is special except ', written as '\''. */
export function quote(arg: string): string {
  if (arg.includes('\0')) throw new Error('A command argument cannot contain a NUL character.');
  if (BARE.test(arg) && !RESERVED.has(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command line that makes a POSIX shell run `argv[0]` with exactly the arguments argv[1..]. */
export function command(argv: readonly string[]): string {
  if (argv.length === 0 || argv[0] === '') throw new Error('A command needs a program name.');
  return argv.map(quote).join(' ');
}
