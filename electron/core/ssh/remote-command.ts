import { command } from '../../../shared/shell.ts';

/**
 * How every remote command is launched, and stopped.
 *
 * Closing an SSH channel does not stop what runs in it: without a pty sshd sends no SIGHUP, and
 * the "signal" channel request reaches only the session's first process (and OpenSSH honours it
 * only since 7.9). A `btrfs send | zstd` left behind keeps a snapshot busy and a disk loaded. So
 * each command runs as the leader of its own process group (setsid), reports the group id as the
 * first line of stdout, and a cancel kills the whole group with a second command on the same
 * connection, then checks that it is gone.
 */

// `exec` keeps the pid, so the number printed is the group id of the command and all its children.
const LEADER = 'echo "$$"; exec "$@"';

// setsid runs as a child of this shell, so it never leads a group and never needs to fork: a
// forking setsid would return at once, losing the exit code, and `setsid -w` (wait) does not exist
// in CentOS 7's util-linux 2.23. `exit $?` keeps the shell from exec'ing into setsid.
const LAUNCH = `setsid sh -c '${LEADER}' sh "$@"; exit $?`;

/** The command line actually sent: argv in its own process group, under sudo when a prompt is given. */
export function launchLine(argv: readonly string[], sudoPrompt?: string): string {
  const inner = ['sh', '-c', LAUNCH, 'sh', ...argv];
  return command(sudoPrompt === undefined ? inner : ['sudo', '-S', '-p', sudoPrompt, '--', ...inner]);
}

// TERM, up to 3 s to exit cleanly (a btrfs receive removes its partial subvolume), then KILL;
// exit 0 only once no process of the group is left. Zombies do not count: they hold nothing, and
// orphans wait for init to reap them (slowly, in some containers). dash's kill takes no `--`.
const STOP = [
  'g=$1',
  'live() {',
  '  [ -d /proc/self ] || { kill -0 -"$g" 2>/dev/null; return; }',
  '  for f in /proc/[0-9]*/stat; do',
  '    read -r l 2>/dev/null < "$f" || continue',
  '    set -- ${l##*) }',
  '    [ "$3" = "$g" ] && [ "$1" != Z ] && return 0',
  '  done',
  '  return 1',
  '}',
  'kill -TERM -"$g" 2>/dev/null || exit 0',
  'i=0',
  'while live; do',
  '  i=$((i+1))',
  '  [ "$i" -eq 30 ] && kill -KILL -"$g" 2>/dev/null',
  '  [ "$i" -gt 50 ] && exit 1',
  '  sleep 0.1',
  'done',
].join('\n');

export function stopGroupArgv(pgid: number): string[] {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`Refusing to signal process group ${pgid}.`);
  return ['sh', '-c', STOP, 'sh', String(pgid)];
}

/**
 * Replaces a file so that readers see the old or the new content, never a part: a temp file in
 * the same directory (same filesystem, so mv is a rename), its size checked against what was sent
 * (a dropped connection ends `cat` early, and a short file must not replace a good one), checked
 * by findmnt where it is an fstab, the old file's owner, mode and SELinux label copied, flushed,
 * renamed. A symlink is written through.
 *
 * In place (a bind-mounted file or a bind source: a rename fails on the one and silently detaches
 * the other, LAB-NOTES) the same checked, flushed copy is then copied over the file's own inode in
 * one local step, with hang-ups ignored: once everything has arrived, nothing depends on the link.
 *
 * Arguments: $1 path, $2 byte count, $3 mode for a new file, $4 `rename` or `in-place`,
 * $5 `fstab` to check with findmnt --verify (exit 4 when it rejects the file) or empty.
 */
const WRITE = [
  'set -eu',
  'dst=$(readlink -f -- "$1") || dst=$1',
  'tmp=$(mktemp "$(dirname -- "$dst")/.icbd-XXXXXXXX")',
  'trap \'rm -f -- "$tmp"\' EXIT',
  // PIPE too: after a cancel the channel is gone, and the first write to it must not kill the
  // shell before its EXIT trap removes the temp file.
  "trap 'exit 143' TERM INT HUP PIPE",
  'cat > "$tmp"',
  'got=$(wc -c < "$tmp")',
  'if [ "$got" -ne "$2" ]; then echo "icbd: received $got of $2 bytes; $dst was left unchanged" >&2; exit 3; fi',
  'if [ "$5" = fstab ] && ! out=$(findmnt --verify --tab-file "$tmp" 2>&1); then echo "findmnt --verify rejects the new $dst: $out" >&2; exit 4; fi',
  // GNU sync takes a file since coreutils 8.24; CentOS 7 has 8.22, where only a full sync works.
  'if [ "$4" = in-place ]; then',
  '  sync -- "$tmp" 2>/dev/null || sync',
  "  trap '' TERM INT HUP PIPE",
  '  cat -- "$tmp" > "$dst"',
  '  sync -- "$dst" 2>/dev/null || sync',
  '  exit 0',
  'fi',
  'if [ -e "$dst" ]; then',
  '  chown --reference="$dst" -- "$tmp"',
  '  chmod --reference="$dst" -- "$tmp"',
  '  if command -v chcon >/dev/null 2>&1; then chcon --reference="$dst" -- "$tmp" 2>/dev/null || true; fi',
  'else',
  '  chmod -- "$3" "$tmp"',
  'fi',
  'sync -- "$tmp" 2>/dev/null || sync',
  'mv -f -- "$tmp" "$dst"',
  'trap - EXIT',
].join('\n');

/** WRITE's exit when findmnt rejected the new fstab (and nothing was changed). */
export const WRITE_FSTAB_REJECTED = 4;

export function writeArgv(path: string, size: number, mode: number, o: { inPlace?: boolean; fstab?: boolean } = {}): string[] {
  return ['sh', '-c', WRITE, 'sh', path, String(size), mode.toString(8), o.inPlace ? 'in-place' : 'rename', o.fstab ? 'fstab' : ''];
}
