import type { DiskUse } from '../../../shared/overview.ts';
import { command } from '../../../shared/shell.ts';
import type { CompressorSpeed } from './link-codec.ts';

/**
 * The remote commands of the image repository, as argv arrays. Scripts are constant text; every
 * variable part is either a positional argument or a word rendered by shared/shell.ts `command`,
 * and the names in it were validated by shared/snapshots.ts before they got here.
 */

const sh = (script: string, ...args: string[]): string[] => ['sh', '-c', script, 'sh', ...args];

// ——— pipeline stages and their exit markers ——————————————————————————————————————————————————

/**
 * POSIX sh has no pipefail (Debian's dash), and a pipeline's status is only its last command's.
 * Each stage therefore reports its own status on stderr as `icbd:exit:NAME:CODE`; the app
 * requires every expected marker, with 0, before it trusts a stream. A missing marker (a killed
 * shell) is a failure too.
 */
const STAGE_NAME = /^[a-z][a-z0-9-]*(@[a-z0-9-]+)?$/;

export function stage(name: string, argv: readonly string[], redirect = ''): string {
  if (!STAGE_NAME.test(name)) throw new Error(`Bad stage name ${name}.`);
  return `{ ${command(argv)}${redirect}; echo "icbd:exit:${name}:$?" >&2; }`;
}

export function pipeline(stages: readonly string[]): string {
  return stages.join(' | ');
}

export const EXIT_MARKER = /^icbd:exit:([a-z][a-z0-9-]*(?:@[a-z0-9-]+)?):(\d+)$/;

// ——— repository ————————————————————————————————————————————————————————————————————————————

// `--raw` gives qgroup sizes in bytes; btrfs-progs older than 5.x lack it and print units, which
// the parser reads too.
const LIST = `root=$1
if [ ! -d "$root" ]; then echo icbd:no-root; exit 0; fi
for img in "$root"/*; do
  [ -d "$img" ] || continue
  [ -z "$2" ] || [ "\${img##*/}" = "$2" ] || continue
  echo "icbd:image \${img##*/}"
  for s in "$img"/*; do
    [ -d "$s" ] || continue
    n=\${s##*/}
    echo "icbd:snapshot $n"
    case $n in ''|*[!0-9]*) continue ;; esac
    btrfs subvolume show --raw "$s" 2>/dev/null || btrfs subvolume show "$s" 2>/dev/null || echo "icbd:failed $n $?"
  done
done`;

/** Every image (or only `image`) and snapshot of a repository with all their btrfs facts, in one round trip. */
export function listRepoArgv(root: string, image = ''): string[] {
  return sh(LIST, root, image);
}

export function showArgv(path: string): string[] {
  return ['btrfs', 'subvolume', 'show', '--raw', path];
}

// A repository that does not exist yet still has a filesystem it will live on: the nearest
// existing parent's. `-b` prints bytes; root is needed for the chunk ioctls.
const USAGE = `p=$1
while [ ! -e "$p" ]; do p=\${p%/*}; [ -n "$p" ] || p=/; done
exec btrfs filesystem usage -b "$p"`;

/** `btrfs filesystem usage -b` of the filesystem holding `path` (btrfs-aware free space, not df's). */
export function filesystemUsageArgv(path: string): string[] {
  return sh(USAGE, path);
}

/**
 * Size, used and btrfs' "Free (estimated)" from `btrfs filesystem usage -b`; throws when they are
 * missing. df cannot tell what btrfs can still allocate: "Free (estimated)" counts the unallocated
 * space at the data profile's ratio (half of it on RAID1) plus what allocated data chunks have left.
 */
export function parseFilesystemUsage(text: string): DiskUse {
  const field = (name: string) => Number(text.match(new RegExp(`^\\s*${name}:\\s+(\\d+)`, 'm'))?.[1] ?? Number.NaN);
  const use = { sizeBytes: field('Device size'), usedBytes: field('Used'), freeBytes: field('Free \\(estimated\\)') };
  if (!Object.values(use).every(Number.isFinite)) throw new Error(`Not the output of btrfs filesystem usage -b: ${text.trim().split('\n')[0] ?? '(empty)'}`);
  return use;
}

// du counts extents on disk: what a receive just wrote is still delayed allocation and counts as
// nothing (measured on the lab: 0 exclusive bytes right after an incremental receive, the 1.3 MiB it
// wrote once synced). The filesystem is synced first, as the kernel would within 30 s anyway.
const DU = `btrfs filesystem sync "$1" >/dev/null
exec btrfs filesystem du -s --raw "$1"`;

/** `btrfs filesystem du -s --raw` of one snapshot: a walk of its extents, so run on request only. */
export function filesystemDuArgv(path: string): string[] {
  return sh(DU, path);
}

/** Total, exclusive and set-shared bytes from `btrfs filesystem du -s --raw PATH`; throws when the line is not there. */
export function parseFilesystemDu(text: string): { totalBytes: number; exclusiveBytes: number; sharedBytes: number } {
  const m = text.match(/^\s*(\d+)\s+(\d+)\s+(\d+|-)\s+\S/m);
  if (!m) throw new Error(`Not the output of btrfs filesystem du -s --raw: ${text.trim().split('\n')[0] ?? '(empty)'}`);
  return { totalBytes: Number(m[1]), exclusiveBytes: Number(m[2]), sharedBytes: m[3] === '-' ? 0 : Number(m[3]) };
}

// The working subvolume is created only when missing: adding an image whose working copy exists
// (made by hand or restored from a backup) keeps it.
const ADD_IMAGE = `set -e
mkdir -p "$1"
if [ -n "$2" ] && [ ! -e "$2" ]; then btrfs subvolume create "$2"; fi`;

/** The image's directory in the repository and, on the source, its working subvolume. */
export function addImageArgv(imageDir: string, workPath?: string): string[] {
  return sh(ADD_IMAGE, imageDir, workPath ?? '');
}

// `btrfs subvolume snapshot SRC DEST` puts the snapshot inside DEST when DEST is a directory, so
// an existing number must be refused before, not after.
const SNAPSHOT = `if [ -e "$2" ]; then echo "$2 already exists" >&2; exit 3; fi
if [ ! -d "$1" ]; then echo "the working subvolume $1 does not exist" >&2; exit 4; fi
exec btrfs subvolume snapshot -r "$1" "$2"`;

export function snapshotArgv(workPath: string, snapshotPath: string): string[] {
  return sh(SNAPSHOT, workPath, snapshotPath);
}

export function deleteSnapshotArgv(path: string): string[] {
  return ['btrfs', 'subvolume', 'delete', path];
}

// Annex 1's deleteImage. Every entry is checked to be a subvolume before the first is deleted, so
// a stray file refuses the whole retirement instead of leaving it half done.
const RETIRE_IMAGE = `set -e
if [ -d "$1" ]; then
  for s in "$1"/*; do
    [ -e "$s" ] || continue
    btrfs subvolume show "$s" >/dev/null 2>&1 || { echo "$s is not a btrfs subvolume: nothing was deleted" >&2; exit 3; }
  done
  for s in "$1"/*; do [ -e "$s" ] && btrfs subvolume delete "$s"; done
  rmdir "$1"
fi
if [ -n "$2" ] && [ -e "$2" ]; then btrfs subvolume delete "$2"; fi`;

/** An image's snapshots and directory in the repository and, on the source, its working subvolume. */
export function retireImageArgv(imageDir: string, workPath?: string): string[] {
  return sh(RETIRE_IMAGE, imageDir, workPath ?? '');
}

// A receive that fails or is cancelled may leave its subvolume (writable, without received_uuid,
// or — on btrfs-progs that accept a stream cut at a command boundary — complete-looking). The
// runner calls this only for a number it proved free before the receive, so whatever is there
// is the transfer's own.
//
// The receive may still be running: its sender was cancelled or vanished behind a lost link
// (sshd notices a dead client only hours later), or it is still working through what it had
// buffered — and may create the subvolume after a look that found nothing. Every process of the
// receiving end holds the transfer's lock (pipeline.ts), so those are stopped and waited for
// before anything is looked at. One find over /proc, not a readlink per descriptor: on a busy
// node (thousands of descriptors) that loop took 12 s.
const STOP_RECEIVE = `if [ -e "$2" ]; then
  for f in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$2" 2>/dev/null); do
    p=\${f#/proc/}; kill "\${p%%/*}" 2>/dev/null
  done
  flock -w 60 "$2" rm -f "$2" || { echo "the receive is still running after 60 s" >&2; exit 1; }
fi`;
// The snapshot and its staged stream are ours when the lock names this transfer, or names none
// (the node restarted: /run is empty) and our staged stream is there, as the receiving end holds.
const REMOVE_RECEIVED = `${STOP_RECEIVE}
[ -e "$1" ] || { [ -n "$5" ] && [ -e "$5" ]; } || exit 0
exec 8<>"$3" && flock -w 60 8 || { echo "another receive of $1 still holds $3 after 60 s" >&2; exit 1; }
owner=$(cat "$3")
if [ "$owner" != "$4" ] && { [ -n "$owner" ] || [ -z "$5" ] || [ ! -e "$5" ]; }; then echo "icbd:owner $owner"; exit 0; fi
if [ -n "$5" ] && [ -e "$5" ]; then rm -f "$5" && echo icbd:unstaged; fi
[ -e "$1" ] || exit 0
btrfs subvolume delete "$1" >/dev/null && echo icbd:deleted`;

/**
 * The clean-up holds the snapshot's lock (pipeline.ts snapshotLockPath) while it looks and deletes,
 * and deletes only when the lock names this transfer: a duplicate push that lost the race owns
 * nothing there. The staged stream (`stagingPath`, empty: none) goes with the snapshot.
 */
export function removeReceivedArgv(path: string, lockPath: string, snapshotLock: string, transferId: string, stagingPath = ''): string[] {
  return sh(REMOVE_RECEIVED, path, lockPath, snapshotLock, transferId, stagingPath);
}

// ——— resume —————————————————————————————————————————————————————————————————————————————————

// What a receiver holds of a transfer: whether its receive still runs (its lock is held: the
// pipeline outlived the console), how much of the stream is staged, and the subvolume's facts.
// $2 is the receive's lock, as in STOP_RECEIVE, which may come first.
const RECEIVER_STATE = `if [ -e "$2" ] && ! flock -n "$2" true 2>/dev/null; then echo icbd:busy; fi
if [ -n "$3" ] && [ -e "$3" ]; then echo "icbd:staged $(stat -c %s "$3")"; fi
if [ -e "$1" ]; then echo icbd:subvolume; btrfs subvolume show --raw "$1"; fi
exit 0`;

/**
 * What a receiver holds of a transfer. With `stop` (before a resume), a receive of the transfer
 * still running there is stopped first, its staged bytes kept: its sender is gone (sshd notices a
 * dead client only hours later).
 */
export function receiverStateArgv(finalPath: string, stagingPath: string | undefined, lockPath: string, stop = false): string[] {
  return sh(stop ? `${STOP_RECEIVE}\n${RECEIVER_STATE}` : RECEIVER_STATE, finalPath, lockPath, stagingPath ?? '');
}

export interface ReceiverState {
  busy: boolean;
  /** Bytes of the stream staged; null: no staging file. */
  staged: number | null;
  /** `btrfs subvolume show` of the final path; null: it does not exist. */
  subvolume: string | null;
}

export function parseReceiverState(stdout: string): ReceiverState {
  const at = stdout.indexOf('icbd:subvolume\n');
  const head = at < 0 ? stdout : stdout.slice(0, at);
  const staged = head.match(/^icbd:staged (\d+)$/m)?.[1];
  return { busy: /^icbd:busy$/m.test(head), staged: staged === undefined ? null : Number(staged), subvolume: at < 0 ? null : stdout.slice(at + 'icbd:subvolume\n'.length) };
}

/** sha256 of the first `bytes` of a file (the staged stream). */
export function stagedHashArgv(stagingPath: string, bytes: number): string[] {
  return sh('head -c "$2" "$1" | sha256sum', stagingPath, String(bytes));
}

/**
 * sha256 of the first `bytes` of the send stream, made again on the source: the same snapshot
 * against the same parent gives the same stream, so a prefix that hashes alike is the one staged.
 */
export function sendPrefixHashArgv(send: readonly string[], bytes: number): string[] {
  return sh(`${command(send)} | head -c "$1" | sha256sum; exit 0`, String(bytes));
}

export function parseHash(stdout: string): string | null {
  return stdout.match(/^([0-9a-f]{64})\b/m)?.[1] ?? null;
}

// ——— rate limit ————————————————————————————————————————————————————————————————————————————

/*
 * The sender's own pacing, with what every node has (pv is not installed on them): dd moves a
 * tenth of a second's worth at a time, and the loop sleeps until the bytes so far are due at the
 * cap, so the average holds over the whole stream whatever each step costs. The data is copied
 * once more (by dd), which only matters at rates a capped link never reaches.
 */
const PACE = `rate=$1
chunk=$((rate / 10)); [ "$chunk" -ge 65536 ] || chunk=65536
exec 3>&1
t0=$(date +%s%3N); sent=0
while :; do
  n=$(LC_ALL=C dd bs="$chunk" count=1 iflag=fullblock 2>&1 >&3 | sed -n 's/^\\([0-9][0-9]*\\) bytes.*/\\1/p')
  [ -n "$n" ] || { echo "dd stopped writing the stream" >&2; exit 1; }
  sent=$((sent + n))
  [ "$n" -lt "$chunk" ] && exit 0
  d=$((t0 + sent * 1000 / rate - $(date +%s%3N)))
  [ "$d" -gt 0 ] && sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
done`;

/** stdin to stdout at `bytesPerSecond` on average. */
export function paceArgv(bytesPerSecond: number): string[] {
  if (!Number.isInteger(bytesPerSecond) || bytesPerSecond < 1) throw new Error(`Bad rate ${bytesPerSecond}.`);
  return sh(PACE, String(bytesPerSecond));
}

// ——— probe ——————————————————————————————————————————————————————————————————————————————————

export const PROBED_TOOLS = ['btrfs', 'zstd', 'lz4', 'gzip', 'snzip', 'socat', 'ssh', 'mkfifo', 'tee'] as const;

// `tee -p` (coreutils ≥ 8.24) lets a fan-out go on when one receiver dies; without it the
// whole fan-out fails with that receiver.
const PROBE = `for t in "$@"; do command -v "$t" >/dev/null 2>&1 && echo "icbd:tool $t"; done
v=$(btrfs --version 2>/dev/null) && echo "icbd:btrfs $v"
tee -p </dev/null >/dev/null 2>&1 && echo icbd:tee-p
exit 0`;

export function probeArgv(): string[] {
  return sh(PROBE, ...PROBED_TOOLS);
}

export interface NodeTools {
  tools: Set<string>;
  btrfsVersion: string | null;
  teeKeepsGoing: boolean;
}

export function parseProbe(text: string): NodeTools {
  const tools = new Set<string>();
  let btrfsVersion: string | null = null;
  let teeKeepsGoing = false;
  for (const line of text.split('\n')) {
    const tool = line.match(/^icbd:tool (\S+)$/)?.[1];
    if (tool) tools.add(tool);
    const version = line.match(/^icbd:btrfs (.+)$/)?.[1];
    if (version) btrfsVersion = version.trim();
    if (line === 'icbd:tee-p') teeKeepsGoing = true;
  }
  return { tools, btrfsVersion, teeKeepsGoing };
}

// ——— link and compressor, for auto compression (link-codec.ts) ————————————————————————————————

/** More than 2 s of a 100 Mbit/s link: the receiver's 2 s window, not the size, ends a probe of a slow link. */
export const LINK_PROBE_MIB = 64;
// The receiver times from the first byte (a handshake or a busy node's process starts must not
// count) and stops reading after 2 s, so a slow link bounds the probe instead of stalling the plan.
export const LINK_PROBE_RECEIVER = `head -c 1 >/dev/null; a=$(date +%s%N); c=$(timeout 2 cat | wc -c); b=$(date +%s%N); echo "icbd:link $c $a $b"`;
// The bytes are made before the leg starts, from 1 MiB of random data repeated (no stream
// compressor on a path holds a window that long): /dev/urandom on a busy node (≈ 30 MB/s at a
// load of 25 on the lab) would otherwise be what the probe measures. In RAM, removed on any exit.
const LINK_PROBE_SENDER = `n=$1; shift
d=$(mktemp -d /dev/shm/icbd-link.XXXXXX 2>/dev/null || mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
trap 'exit 1' HUP INT TERM
head -c 1M /dev/urandom > "$d/r"
i=0; while [ $i -lt "$n" ]; do cat "$d/r"; i=$((i + 1)); done > "$d/probe"
"$@" < "$d/probe"`;

/**
 * Run on the source: random bytes through `leg` (the transfer's own ssh to the receiver, with the
 * replication key: its forced command, the receive wrapper, runs LINK_PROBE_RECEIVER for `probe`).
 */
export function linkProbeArgv(leg: (remoteLine: string) => string[]): string[] {
  return sh(LINK_PROBE_SENDER, String(LINK_PROBE_MIB), ...leg('probe'));
}

/** Bytes per second the receiver read, or null when it printed no usable line. */
export function parseLinkProbe(stdout: string): number | null {
  const m = stdout.match(/^icbd:link (\d+) (\d+) (\d+)$/m);
  if (!m) return null;
  const ns = Number(m[3]) - Number(m[2]);
  return ns > 0 && Number(m[1]) > 0 ? (Number(m[1]) * 1e9) / ns : null;
}

/** zstd's own benchmark of levels 1–3 on its synthetic sample, one pass each: under a second. */
export function compressorBenchArgv(): string[] {
  return ['zstd', '-q', '-b1', '-e3', '-i0'];
}

/** compressorBenchArgv's output: one line per level, `-1  3154228 (3.170)  88.07 MB/s  1213.4 MB/s  Synthetic 50%`. */
export function parseZstdBench(stdout: string): CompressorSpeed | null {
  const speeds: Partial<Record<number, number>> = {};
  for (const m of stdout.matchAll(/^\s*-?(\d+)#?\s+\d+\s+\([x\d.]+\)\s*,?\s*([\d.]+) MB\/s/gm)) speeds[Number(m[1])] = Number(m[2]) * 1e6;
  const l1 = speeds[1];
  const l3 = speeds[3];
  return l1 && l3 ? { speeds: { 1: l1, 3: l3 }, measured: true } : null;
}

// ——— size estimate ——————————————————————————————————————————————————————————————————————————

/*
 * The stream's size before it is sent, for percent and ETA. `btrfs send --no-data` walks the same
 * metadata as the real send but writes each file extent as one `update_extent(len)` instead of
 * the data, so real size = no-data size + Σ len + the write commands' headers: v1 send cuts data
 * into 48 KiB writes of 30 + path bytes of header each, where update_extent took 38 + path. On
 * the loop-device fixtures this is exact to the byte (full 80 MiB image, 2 % incremental, 31 k
 * files); it reads no file data, so it costs a metadata walk (≈ ms for an image of a few files,
 * ≈ 1.5 s for 31 k files against 3.3 s for their full send). Σ len alone is 0.6–0.99 of the truth
 * (metadata-heavy increments fall short), qgroup exclusive needs quotas and says nothing about
 * an incremental against a chosen parent.
 */
const SEND_CHUNK = 49152;
const ESTIMATE_AWK = `
$1 == "update_extent" {
  i = index($0, " offset=")
  path = substr($0, 1, i - 1); sub(/^update_extent +/, "", path); sub(/ +$/, "", path)
  p = length(path) - prefix
  if (match($0, / len=[0-9]+/)) {
    len = substr($0, RSTART + 5, RLENGTH - 5) + 0
    sum += len
    over += int((len + ${SEND_CHUNK - 1}) / ${SEND_CHUNK}) * (30 + p) - (38 + p)
  }
}
END { printf "icbd:estimate %.0f %.0f\\n", sum, over }`;

export function estimateArgv(snapshotPath: string, parentPath: string | null): string[] {
  const name = snapshotPath.slice(snapshotPath.lastIndexOf('/') + 1);
  const send = stage('nodata', ['btrfs', 'send', '-q', '--no-data', ...(parentPath ? ['-p', parentPath] : []), snapshotPath]);
  const dump = stage('dump', ['btrfs', 'receive', '--dump']);
  // The dump names files ./<subvolume>/<path>; the stream carries only <path>.
  const awk = command(['awk', '-v', `prefix=${name.length + 3}`, ESTIMATE_AWK]);
  const script = [`n=$(${pipeline([send, 'wc -c'])})`, 'echo "icbd:nodata $n"', pipeline([send, dump, awk])].join('\n');
  return ['sh', '-c', script];
}

/** The estimate in bytes, or the reason there is none. */
export function parseEstimate(stdout: string, stderr: string): { bytes: number } | { problem: string } {
  const exits = stderr.split('\n').map((l) => l.match(EXIT_MARKER)).filter((m) => m !== null);
  // `btrfs receive --dump` stops at the stream's end command and may leave the sender a last
  // write into a closed pipe: SIGPIPE (141) there is no failure once the dump itself ended well
  // (seen on the lab: one estimate in a few dozen).
  const dumped = exits.some((m) => m[1] === 'dump' && m[2] === '0');
  const bad = exits.find((m) => m[2] !== '0' && !(dumped && m[1] === 'nodata' && m[2] === '141'));
  if (bad) return { problem: `${bad[1] === 'dump' ? 'btrfs receive --dump' : 'btrfs send --no-data'} failed (exit ${bad[2]}): ${lastText(stderr)}` };
  const nodata = Number(stdout.match(/^icbd:nodata\s+(\d+)$/m)?.[1]);
  const est = stdout.match(/^icbd:estimate (\d+) (-?\d+)$/m);
  if (!Number.isFinite(nodata) || !est) return { problem: `the estimate printed nothing usable: ${lastText(stderr) || stdout.trim().slice(-200)}` };
  return { bytes: nodata + Number(est[1]) + Number(est[2]) };
}

// ——— room on a receiver ——————————————————————————————————————————————————————————————————————

export function lastText(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !EXIT_MARKER.test(l))
    .slice(-2)
    .join(' / ');
}
