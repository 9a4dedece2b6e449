import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../shared/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors the operator can act on instead of Node's TypeError text. */
export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new AppError('INVALID_INPUT', `${(err as Error).message.replace(/\. To specify.*$/s, '.')}\nusage: ${usage}`);
  }
}
