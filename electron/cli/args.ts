import { parseArgs } from 'node:util';
import { AppError } from '../../shared/errors.ts';
import type { CommandSpec, OptionSpec } from './commands.ts';
import { usageLines } from './help.ts';

type Options = Readonly<Record<string, OptionSpec>>;

/**
 * A command's arguments parsed with its entry of the command table, with errors the operator can
 * act on instead of Node's TypeError text: an unknown option names the nearest known one.
 */
export function parse<O extends Options>(argv: string[], spec: { readonly options?: O; readonly usage?: string }) {
  const options = (spec.options ?? {}) as O;
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify.*$/s, '.');
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    const near = unknown === undefined ? undefined : nearest(unknown.replace(/^-+/, '').split('=')[0]!, Object.keys(options));
    throw usageError(`${message}${near ? ` Did you mean --${near}?` : ''}`, spec);
  }
}

/** Bad usage: what is wrong, then how the command is used; exit 2, nothing done. */
export function usageError(message: string, spec: Pick<CommandSpec, 'usage'>): AppError {
  return new AppError('INVALID_INPUT', spec.usage ? `${message}\n${usageLines(spec.usage).join('\n')}` : message);
}

/** The candidate closest to a mistyped word (edit distance at most a third of it, and 3), as git's "did you mean". */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c);
    if (d <= bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Damerau–Levenshtein distance (optimal string alignment): a swapped pair of letters counts as one. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}
