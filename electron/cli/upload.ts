import { resolve } from 'node:path';
import type { UploadInto } from '../../shared/transfers.ts';
import { formatBytes } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { limitRate } from './replication.ts';
import { printJson } from './output.ts';
import { follow } from './progress.ts';

/** A file of this machine to a node, followed to its end like a push (Ctrl-C cancels and cleans up). */
export async function uploadCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.upload);
  if (positionals.length !== 2) throw usageError('Name the file and where it goes.', COMMANDS.upload);
  const [file, to] = positionals as [string, string];
  const m = /^([^:]+):(.+)$/.exec(to);
  if (!m) throw usageError(`Write where the file goes as HOST:IMAGE or HOST:iso (got ${JSON.stringify(to)}).`, COMMANDS.upload);
  const into: UploadInto = m[2] === 'iso' ? { iso: true } : { image: m[2]! };
  const record = await core.call('transfers.upload', {
    node: m[1]!,
    // The core runs in this process: a relative path is relative to where the command is typed.
    file: resolve(file),
    into,
    ...(values.name !== undefined ? { name: values.name } : {}),
    overwrite: values.overwrite ?? false,
    ...limitRate(values['limit-rate']),
  });
  if (!values.json) console.log(`Uploading ${record.file} (${formatBytes(record.totalBytes)}) to ${m[1]}:${record.dir}/${record.name}`);
  const [end] = await follow(core, [record], !values.json);
  if (values.json) printJson(end);
  return end?.state === 'done' ? 0 : 1;
}
