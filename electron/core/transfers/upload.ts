import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { AppError } from '../../../shared/errors.ts';
import type { Role } from '../../../shared/inventory.ts';
import { ROLES } from '../../../shared/roles.ts';
import { command } from '../../../shared/shell.ts';
import type { RepoSettings } from '../../../shared/snapshots.ts';
import type { UploadInto } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';
import { lastText } from '../replication/commands.ts';
import { runCleanup, runText, type HostChange, type NodeRemote } from '../remote/node.ts';
import type { UploadOptions } from '../ssh/remote-files.ts';

/**
 * Uploads: a file on the operator's machine (where the core runs) streamed to a node, into an
 * image's working subvolume (the next snapshot carries it) or the node's ISO subvolume.
 *
 * The bytes go through the SSH layer's atomic write (SshPool.upload: exec + cat, under sudo),
 * aimed at a staging directory of the transfer's own, `<dir>/.icbd-upload-<id>/`, in the same
 * subvolume (a rename cannot cross subvolumes). Every temporary file therefore has a name known
 * here, whatever happened: on cancel, a dead link or any failure the staging directory is
 * removed (its processes killed first), and only a complete file of the right size is moved to
 * its name, with `ln` when it must not replace anything (atomic: a file that appeared meanwhile
 * is left alone).
 *
 * Verification is the size, not a checksum: SSH authenticates every packet (MAC or AEAD), so
 * what arrives is what was sent, and the write refuses a short file. A sha256 would read the
 * whole file again on both ends — minutes of disk for a VM disk, on imgs while it serves —
 * to re-prove that. What does go wrong is the local file changing under the upload (a VM still
 * running on its disk): its size and mtime are compared before and after.
 */

export type SendFile = (host: string, localPath: string, remotePath: string, o: UploadOptions) => Promise<void>;

const STAGING_PREFIX = '.icbd-upload-';
const KIB = 1024;

/** The directory on a node of `role` an upload goes to. */
export function uploadDir(node: string, role: Role, settings: Pick<RepoSettings, 'workRoot'>, into: UploadInto): string {
  if ('image' in into) return `${settings.workRoot}/${into.image}`;
  const iso = ROLES[role].layout.find((l) => l.path.endsWith('/iso'));
  if (!iso) throw new AppError('INVALID_INPUT', `${node} is a ${role} node, which has no iso subvolume in the guide's layout: upload ISOs to imgs or a cache.`);
  return iso.path;
}

export function stagingDir(dir: string, id: string): string {
  return `${dir}/${STAGING_PREFIX}${id}`;
}

export interface LocalFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The file to send, read on this machine: a regular file the core can read, or refused saying why. */
export async function localFile(path: string): Promise<LocalFile> {
  const where = "on the machine running the console's core";
  const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new AppError('NOT_FOUND', `There is no file ${path} ${where}: check the path.`);
    if (err.code === 'EACCES') throw new AppError('UNAUTHORIZED', `${path} cannot be read ${where}: ${err.message}.`);
    throw new AppError('INVALID_INPUT', `${path} cannot be read: ${err.message}.`);
  });
  if (!s.isFile()) throw new AppError('INVALID_INPUT', `${path} is ${s.isDirectory() ? 'a directory' : 'not a regular file'}: upload a file.`);
  await access(path, constants.R_OK).catch(() => {
    throw new AppError('UNAUTHORIZED', `${path} cannot be read by the user running the console: give it read permission, or upload a copy.`);
  });
  return { path, size: s.size, mtimeMs: s.mtimeMs };
}

// ——— on the node ——————————————————————————————————————————————————————————————————————————

/** Facts about the target, read without changing anything. $1 dir, $2 name. */
const LOOK = [
  'set -u',
  'dir=$1 t=$1/$2',
  '[ -d "$dir" ] || { echo dir=missing; exit 0; }',
  'echo dir=ok',
  'if [ -L "$t" ]; then echo target=other',
  'elif [ -f "$t" ]; then echo target=file',
  'elif [ -e "$t" ]; then echo target=other',
  'else echo target=none; fi',
  // KiB, multiplied on our side: some awks print large products in exponent form.
  'df -P -k -- "$dir" | awk \'NR == 2 { print "avail=" $4 }\'',
].join('\n');

export interface TargetFacts {
  dir: boolean;
  target: 'none' | 'file' | 'other';
  /** Free bytes in the directory's filesystem; null when df said nothing readable. */
  availBytes: number | null;
}

export function parseTargetFacts(stdout: string): TargetFacts {
  const v = new Map(stdout.split('\n').flatMap((l) => (/^\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()] as const] : [])));
  const target = v.get('target');
  const avail = v.get('avail');
  return {
    dir: v.get('dir') === 'ok',
    target: target === 'file' || target === 'other' ? target : 'none',
    availBytes: avail && /^\d+$/.test(avail) ? Number(avail) * KIB : null,
  };
}

export interface UploadTarget {
  node: string;
  dir: string;
  name: string;
  into: UploadInto;
  overwrite: boolean;
}

/** Why the upload cannot start, with what to do; undefined when it can. */
export function uploadRefusal(f: TargetFacts, t: UploadTarget, size: number): AppError | undefined {
  const path = `${t.dir}/${t.name}`;
  if (!f.dir)
    return 'image' in t.into
      ? new AppError('NOT_FOUND', `${t.node} has no working subvolume for ${t.into.image} (${t.dir}): add the image first (icbd snapshot add-image ${t.node} ${t.into.image}).`)
      : new AppError('NOT_FOUND', `${t.node} has no ${t.dir}: install its role first (icbd install ${t.node} --role …), which creates the iso subvolume.`);
  if (f.target === 'other') return new AppError('CONFLICT', `${path} on ${t.node} exists and is not a regular file (a directory or a link): choose another name.`);
  if (f.target === 'file' && !t.overwrite) return new AppError('CONFLICT', `${path} already exists on ${t.node}: choose another name, or overwrite it.`);
  if (f.availBytes !== null && f.availBytes < size)
    return new AppError(
      'CONFLICT',
      `${t.node} has ${formatBytes(f.availBytes)} free in ${t.dir}, and the file is ${formatBytes(size)}${f.target === 'file' ? ' (the old file is replaced only once the new one is complete, so both must fit)' : ''}: free space there first.`,
      { availBytes: f.availBytes, size },
    );
  return undefined;
}

/** Refused (with the reason) unless the node can take the file now; nothing is changed. */
export async function checkTarget(remote: NodeRemote, t: UploadTarget, size: number, signal?: AbortSignal): Promise<void> {
  const r = await runText(remote, t.node, ['sh', '-c', LOOK, 'sh', t.dir, t.name], { sudo: true, timeoutMs: 60_000, ...(signal ? { signal } : {}) });
  if (r.code !== 0) throw new AppError('REMOTE_FAILED', `Could not look at ${t.dir} on ${t.node}: ${lastText(r.stderr) || `exit code ${r.code}`}.`);
  const refusal = uploadRefusal(parseTargetFacts(r.stdout), t, size);
  if (refusal) throw refusal;
}

/**
 * Moves the complete file to its name. $1 staging dir, $2 final path, $3 size, $4 overwrite (1/0).
 * Prints the placed file's size. mv -T never moves into a directory that took the name.
 */
const PLACE = [
  'set -eu',
  'staging=$1 dst=$2 size=$3',
  'got=$(stat -c %s -- "$staging/file")',
  'if [ "$got" != "$size" ]; then echo "icbd: the node holds $got of $size bytes" >&2; exit 3; fi',
  'if [ "$4" = 1 ]; then mv -f -T -- "$staging/file" "$dst"',
  'else ln -- "$staging/file" "$dst" || { echo "icbd: $dst appeared during the upload and was left as it was" >&2; exit 5; }',
  'fi',
  'rm -rf -- "$staging"',
  'stat -c %s -- "$dst"',
].join('\n');

/**
 * Removes a staging directory. A writer still running there (its connection died and sshd has
 * not noticed) holds the partial file: it is killed first, found by its open files. $1 staging dir.
 */
const CLEAN = [
  '[ -e "$1" ] || { echo icbd:nothing; exit 0; }',
  'find /proc/[0-9]*/fd -maxdepth 1 -lname "$1/*" 2>/dev/null | cut -d/ -f3 | sort -u | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done',
  'rm -rf -- "$1" && echo icbd:removed',
].join('\n');

export interface RunUploadInput extends UploadTarget {
  remote: NodeRemote;
  send: SendFile;
  id: string;
  file: LocalFile;
  signal: AbortSignal;
  /** Bytes per second; undefined: as fast as it goes. */
  rateLimit?: number | undefined;
  /** Bytes sent so far, about once a second (never per chunk). */
  onBytes(bytes: number): void;
  onLog(line: string): void;
  onVerifying(): void;
  /** The upload and its clean-up, as they end (the audit log). */
  onChange?(change: HostChange): void;
}

/**
 * Sends the file, checks it and moves it to its name; on any failure or cancel the staging
 * directory is removed before this rejects (CANCELLED for a cancel), the message saying what was
 * left, if anything. The node's free space and the name are checked again first: they may have
 * changed while the transfer was queued.
 */
export async function runUpload(i: RunUploadInput): Promise<void> {
  const path = `${i.dir}/${i.name}`;
  const staging = stagingDir(i.dir, i.id);
  const t0 = Date.now();
  const audit = (result: HostChange['result'], detail: string) =>
    i.onChange?.({ host: i.node, action: 'transfers.upload', command: `upload ${command([i.file.path])} → ${i.node}:${command([path])}`, result, detail, ms: Date.now() - t0 });
  const sudo = { sudo: true as const, timeoutMs: 60_000 };
  let staged = false;
  try {
    await checkTarget(i.remote, i, i.file.size, i.signal);
    // Cleaned up from here on, even when a cancel stops mkdir itself: removing nothing is harmless.
    staged = true;
    const mkdir = await runText(i.remote, i.node, ['mkdir', '-m', '700', '--', staging], { ...sudo, signal: i.signal });
    if (mkdir.code !== 0) throw new AppError('REMOTE_FAILED', `Could not make the staging directory ${staging} on ${i.node}: ${lastText(mkdir.stderr)}.`);
    i.onLog(`sending ${i.file.path} (${formatBytes(i.file.size)}) to ${i.node}:${path}`);
    let sent = 0;
    const tick = setInterval(() => i.onBytes(sent), 1000);
    try {
      await i.send(i.node, i.file.path, `${staging}/file`, { sudo: true, signal: i.signal, bytesPerSecond: i.rateLimit, onProgress: (p) => (sent = p.sent) });
    } finally {
      clearInterval(tick);
      i.onBytes(sent);
    }
    i.onVerifying();
    const after = await localFile(i.file.path);
    if (after.size !== i.file.size || after.mtimeMs !== i.file.mtimeMs)
      throw new AppError('CONFLICT', `${i.file.path} changed while it was being sent (is a VM still running on it?): stop what writes to it, then upload again.`);
    // The last moment a cancel is honoured: placing the complete file is not interrupted.
    if (i.signal.aborted) throw new AppError('CANCELLED', 'Cancelled.');
    const placed = await runText(i.remote, i.node, ['sh', '-c', PLACE, 'sh', staging, path, String(i.file.size), i.overwrite ? '1' : '0'], sudo);
    if (placed.code !== 0) throw new AppError(placed.code === 5 ? 'CONFLICT' : 'REMOTE_FAILED', `Placing ${path} on ${i.node} failed: ${lastText(placed.stderr) || `exit code ${placed.code}`}.`);
    staged = false;
    const size = Number(placed.stdout.trim());
    if (size !== i.file.size) throw new AppError('REMOTE_FAILED', `${path} on ${i.node} has ${placed.stdout.trim()} bytes after the upload, not ${i.file.size}: upload it again.`);
    i.onLog(`${path} on ${i.node}: ${size} bytes, as sent`);
    audit('ok', `${i.file.path} (${size} bytes) → ${path}${i.overwrite ? ' (overwrite allowed)' : ''}`);
  } catch (err) {
    const cancelled = i.signal.aborted || (err instanceof AppError && err.code === 'CANCELLED');
    const e = err instanceof AppError ? err : new AppError('INTERNAL', err instanceof Error ? err.message : String(err));
    const left = staged ? await removeStaging(i, staging) : 'nothing was written';
    const message = cancelled ? `Cancelled; ${left}.` : `${e.message.replace(/\.$/, '')}; ${left}.`;
    i.onLog(message);
    audit(cancelled ? 'cancelled' : 'failed', message);
    throw new AppError(cancelled ? 'CANCELLED' : e.code, message, e.detail);
  }
}

async function removeStaging(i: RunUploadInput, staging: string): Promise<string> {
  const argv = ['sh', '-c', CLEAN, 'sh', staging];
  const t0 = Date.now();
  const r = await runCleanup(i.remote, i.node, argv);
  const change = (result: HostChange['result'], detail: string) => i.onChange?.({ host: i.node, action: 'transfers.upload.cleanup', command: command(argv), result, detail, ms: Date.now() - t0 });
  if (r instanceof Error || r.code !== 0) {
    const why = r instanceof Error ? r.message : lastText(r.stderr);
    change('failed', why);
    return `the partial upload in ${staging} on ${i.node} could not be removed (${why}): remove it with \`rm -rf ${staging}\``;
  }
  if (!r.stdout.includes('icbd:removed')) return 'nothing of it was left on disk';
  change('ok', `removed the partial upload ${staging}`);
  return `the partial upload was removed from ${i.node}`;
}
