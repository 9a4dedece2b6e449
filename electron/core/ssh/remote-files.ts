import { createReadStream } from 'node:fs';
import { pacedStream } from '../util/pacer.ts';
import { stat } from 'node:fs/promises';
import { AppError } from '../../../shared/errors.ts';
import type { ExecOptions, ExecResult } from './exec.ts';
import { writeArgv } from './remote-command.ts';
import { lastLine } from './sudo.ts';

/**
 * Remote files go through exec (cat in, cat out), not SFTP: the same path then works for root and
 * under sudo (SFTP cannot elevate), stops cleanly on cancel, and streams with the channel's own
 * backpressure. Throughput is that of the channel, as with SFTP.
 */

type Common = Pick<ExecOptions, 'sudo' | 'signal' | 'timeoutMs'>;
export type ReadOptions = Common & { maxBytes?: number };
export type WriteOptions = Common & { mode?: number };
export type UploadOptions = WriteOptions & { onProgress?(p: { sent: number; total: number }): void; bytesPerSecond?: number | undefined };

const DEFAULT_MAX_READ = 64 * 1024 * 1024;

/** What these need of SshPool (which calls them): its exec, and nothing that would import the pool back. */
export interface Executor {
  exec(host: string, argv: readonly string[], o?: ExecOptions): Promise<ExecResult>;
}

export async function readRemoteFile(pool: Executor, host: string, path: string, o: ReadOptions = {}): Promise<Buffer> {
  const max = o.maxBytes ?? DEFAULT_MAX_READ;
  const chunks: Buffer[] = [];
  let size = 0;
  let err = '';
  const tooBig = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, tooBig.signal]) : tooBig.signal;
  const r = await pool
    .exec(host, ['cat', '--', path], {
      ...o,
      signal,
      onStdout: (b) => {
        size += b.length;
        if (size > max) tooBig.abort();
        else chunks.push(b);
      },
      onStderr: (b) => (err += b.toString('utf8')),
    })
    .catch((e: unknown) => {
      if (tooBig.signal.aborted) throw new AppError('CONFLICT', `${path} on ${host} is larger than ${max} bytes; read it in pieces or raise the limit.`);
      throw e;
    });
  if (r.code !== 0) throw fileError(host, path, err, 'read');
  return Buffer.concat(chunks);
}

export async function writeRemoteFile(pool: Executor, host: string, path: string, data: Buffer | string, o: WriteOptions = {}): Promise<void> {
  const buf = Buffer.from(data);
  await writeFrom(pool, host, path, buf.length, buf, o);
}

/** Streams a local file (a backup tarball, an ISO) into place atomically, reporting bytes sent. */
export async function uploadRemoteFile(pool: Executor, host: string, localPath: string, remotePath: string, o: UploadOptions = {}): Promise<void> {
  const total = (await stat(localPath)).size;
  o.onProgress?.({ sent: 0, total });
  const file = createReadStream(localPath, { highWaterMark: 256 * 1024 });
  const paced = o.bytesPerSecond === undefined ? undefined : file.pipe(pacedStream(o.bytesPerSecond));
  file.on('error', (err) => paced?.destroy(err));
  await writeFrom(pool, host, remotePath, total, paced ?? file, {
    ...o,
    onStdinProgress: (sent: number) => o.onProgress?.({ sent, total }),
  });
}

async function writeFrom(pool: Executor, host: string, path: string, size: number, stdin: ExecOptions['stdin'], o: WriteOptions & Pick<ExecOptions, 'onStdinProgress'>): Promise<void> {
  if (!path.startsWith('/')) throw new AppError('INVALID_INPUT', `A remote path must be absolute: ${path}`);
  let err = '';
  const r = await pool.exec(host, writeArgv(path, size, o.mode ?? 0o644), { ...o, stdin, onStderr: (b) => (err += b.toString('utf8')) });
  if (r.code !== 0) throw fileError(host, path, err, 'write');
}

function fileError(host: string, path: string, stderr: string, verb: 'read' | 'write'): AppError {
  const why = lastLine(stderr);
  if (/No such file or directory/.test(why)) return new AppError('NOT_FOUND', `${path} does not exist on ${host}${verb === 'write' ? ' (its directory is missing)' : ''}.`);
  if (/Permission denied|Operation not permitted/.test(why))
    return new AppError('UNAUTHORIZED', `Not allowed to ${verb} ${path} on ${host} (${why}): do it with sudo, or as a user who owns the file.`);
  if (/Device or resource busy/.test(why))
    return new AppError('REMOTE_FAILED', `${path} on ${host} is a mount point (a bind-mounted file) and cannot be replaced: write its source instead (see \`findmnt ${path}\`).`);
  return new AppError('REMOTE_FAILED', `Could not ${verb} ${path} on ${host}: ${why || 'no reason given'}.`);
}
