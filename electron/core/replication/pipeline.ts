import { createHash } from 'node:crypto';
import { CODECS, compressArgv, decompressArgv, type Codec, type ZstdLevel } from '../../../shared/compression.ts';
import { randomBytes } from 'node:crypto';
import { command, quote } from '../../../shared/shell.ts';
import type { TransferMode } from '../../../shared/transfers.ts';
import { LINK_PROBE_RECEIVER, paceArgv, pipeline, stage } from './commands.ts';

/**
 * The commands of one transfer: a single `btrfs send` read once, measured, compressed once, and
 * fed to every receiver of the group.
 *
 * direct: `send | zstd | ssh cache 'zstd -d | btrfs receive STAGE'` runs on the source; with
 *   several receivers, tee writes into one FIFO per ssh. The app runs one command and watches.
 * relay: the source runs `send | zstd` to stdout, each receiver `zstd -d | btrfs receive`
 *   from stdin; the app pipes one into the others (transfers/relay.ts).
 * tcp: each receiver runs `socat TCP-LISTEN (once) | zstd -d | btrfs receive`; the source connects
 *   to it with socat in place of ssh. Control stays on SSH; the data is not encrypted, but the
 *   stream starts with a secret of the transfer's (tcpSecret), which each receiver checks before
 *   a byte reaches the decompressor or btrfs receive: nobody else on the network can feed them.
 *   The app hands the secret to the sender and the receivers on their stdin, never in a command line.
 */

export interface PipelineTarget {
  node: string;
  /** How the source reaches the receiver (direct, tcp): its replication address, SSH user and port. */
  address: string;
  user: string;
  sshPort: number;
  /** tcp: the one-time port the receiver listens on. */
  tcpPort?: number;
  /** `<root>/<image>`: the stream's subvolume appears in it as `<n>`. */
  imageDir: string;
  /** `<root>/<image>/<n>`, which must not exist before the receive. */
  finalPath: string;
  /**
   * Where the receiver keeps the (decompressed) stream as it arrives (stagingPath), so that a cut
   * link or a restart resumes; absent: nothing is staged and the push cannot resume there (tcp
   * mode, or no room for the stream twice: planner.ts).
   */
  stagingPath?: string | undefined;
  /** Bytes of the stream already staged there (a resume); the receiving end refuses to run unless the file has exactly that size. */
  staged?: number;
}

export interface PipelineSpec {
  transferId: string;
  mode: TransferMode;
  codec: Codec;
  /** zstd's level when auto chose one. */
  codecLevel?: ZstdLevel | undefined;
  /** Count the stream's bytes as it goes (sendStage); without, there is only elapsed time. */
  meter: boolean;
  /** The source's tee supports -p: one dead receiver does not stop the others. */
  teeKeepsGoing: boolean;
  snapshotPath: string;
  parentPath: string | null;
  /** Bytes at the start of the stream the sender leaves out: what every receiver already holds (a resume). */
  skip?: number;
  /** tcp: the source's replication address; receivers accept a connection from it only. */
  sourceAddress?: string;
  /** The cap on the stream's bytes on the wire (after the compressor), in bytes per second; relay mode caps in the app. */
  rateLimit?: number;
  /** tcp: the transfer's secret (tcpSecret): the first bytes of the stream. */
  secret?: string;
  targets: readonly PipelineTarget[];
}

export interface HostCommand {
  host: string;
  argv: string[];
}

export interface PipelineCommands {
  /** Runs on the source. In relay mode its stdout is the stream. */
  sender: string[];
  /** Run by the app on each receiver (relay, tcp); empty in direct mode. */
  receivers: HostCommand[];
  /** tcp: the line the app writes to the sender's and each receiver's stdin (the secret). */
  stdin?: string;
  /** Exit markers every stage must report with 0: for the whole stream, and per receiver. */
  shared: string[];
  perTarget: Record<string, string[]>;
}

// aes128-gcm first: the fastest cipher with AES-NI (PERF-NOTES: 356 vs 300 MB/s for chacha20);
// the others keep a server that refuses it reachable.
const CIPHERS = 'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com';

export type SshLeg = Pick<PipelineTarget, 'address' | 'user' | 'sshPort'>;

/**
 * Replication's own key pair on the source, apart from its root key: each receiver accepts it
 * only from the source's address, with `restrict` and RECEIVE_WRAPPER as its forced command, so
 * whoever holds it can run the receive side of a push and nothing else (not a shell, not `id`).
 */
export const REPLICATION_KEY = '/root/.ssh/id_icbd_replication';
export const RECEIVE_WRAPPER = '/usr/local/sbin/icbd-receive';

export function sshArgv(t: SshLeg, remoteLine: string): string[] {
  return [
    'ssh', '-T', '-x',
    '-i', REPLICATION_KEY,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'ConnectTimeout=15',
    '-o', 'ServerAliveInterval=15',
    // The plan's access check (keys.ts) opens the connection and leaves it up for a minute; the
    // transfer's ssh hands its stdio to it (fd passing, no extra copy of the data) instead of a
    // second handshake, and so do the pushes of a sync that follow. A leg that finds no usable
    // socket connects on its own.
    '-o', 'ControlMaster=auto',
    '-o', 'ControlPath=~/.ssh/icbd-%C',
    '-o', 'ControlPersist=60',
    '-c', CIPHERS,
    '-p', String(t.sshPort),
    `${t.user}@${t.address}`,
    remoteLine,
  ];
}

const v6 = (a: string) => a.includes(':');
function listenAddress(port: number, bind: string, from?: string): string {
  const range = from ? `,range=${v6(from) ? `[${from}]/128` : `${from}/32`}` : '';
  // accept-timeout: a sender that never comes (it failed before connecting) does not leave the receiver listening.
  const opts = `reuseaddr${range},accept-timeout=${LISTEN_SECONDS}`;
  return v6(bind) ? `TCP6-LISTEN:${port},bind=[${bind}],${opts}` : `TCP-LISTEN:${port},bind=${bind},${opts}`;
}
function connectAddress(host: string, port: number): string {
  // The receiver is started first but may take a moment to listen: retry for ≈ 10 s.
  return v6(host) ? `TCP6:[${host}]:${port},retry=100,interval=0.1` : `TCP:${host}:${port},retry=100,interval=0.1`;
}

/** How long a tcp receiver listens for its sender before it gives up (the sender retries for ≈ 10 s). */
export const LISTEN_SECONDS = 60;
/** socat copies 8 KiB a call by default: 16 times the calls (and context switches) of a pipe's 128 KiB. */
const SOCAT_BLOCK = ['-b', '131072'];
const SECRET = /^[0-9a-f]{32}$/;

/** A new per-transfer secret for the tcp transport: 32 hex digits. */
export function tcpSecret(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Held, for as long as any process of a transfer's receiving end lives, by all of them (an
 * inherited descriptor): the clean-up waits on it (commands.ts), so it never looks at a path a
 * receive is still about to write.
 */
export function receiveLockPath(transferId: string, node: string): string {
  return `/run/lock/icbd-receive-${transferId}-${node}`;
}

/**
 * One receive of a snapshot on a node at a time, whoever starts it (the window, the CLI, another
 * console on another machine): held from the check that the number is free to the end of the
 * receive, and by a failed transfer's clean-up. It holds the id of the transfer that last found
 * the number free, the only one whose clean-up may delete what is there. The file stays (a few
 * bytes in /run, gone at reboot): deleting a lock file another process has open lets two in.
 */
export function snapshotLockPath(finalPath: string): string {
  return `/run/lock/icbd-snapshot${finalPath.replaceAll('/', '-')}`;
}

/**
 * The stream of one snapshot, sent against one parent (or full), as a receiver keeps it while it
 * arrives: on the receiving filesystem, hidden from the repository listing (a dot directory),
 * named by what it is, so that any later push of the same stream (the same transfer resumed, or
 * a new one after the console went away) finds it, and a stream of another identity never
 * appends to it.
 */
export function stagingPath(root: string, image: string, number: number, uuid: string, parentUuid: string | null): string {
  return `${receiveStagingDir(root)}/${image}@${number}.${uuid}.${parentUuid ?? 'full'}.stream`;
}

const STAGING_DIR = '.icbd-staging';

function receiveStagingDir(root: string): string {
  return `${root}/${STAGING_DIR}`;
}

/** The staging file, bytes staged and bytes of the incoming stream to drop, as words (the wrapper's template has stand-ins). */
interface StagingWords {
  path: string;
  staged: string;
  drop: string;
}

/**
 * The receiving end's script. btrfs receive names the subvolume after the sent one, in the
 * directory it is given, and a read-only subvolume cannot be moved to another directory
 * afterwards (rename fails with EROFS), so the stream is received in place. The `free` marker
 * proves the number did not exist before (or held our own receive cut short, beside its staged
 * stream): only then may a failed transfer delete what is there.
 *
 * Staging: the stream is kept as it arrives (tee -a) beside btrfs receive. btrfs receive cannot
 * go on with a stream, so a resume replays the staged bytes into a new receive, then appends what
 * comes, dropping what the receiver already holds beyond what the sender left out (a receiver of a
 * fan-out may hold more than the others). Its numbers are shell variables, not structure, so that
 * RECEIVE_WRAPPER's one copy of this script serves every request.
 */
function receiverScript(spec: PipelineSpec, t: PipelineTarget, words?: StagingWords): { script: string; markers: string[] } {
  const staged = t.staged ?? 0;
  const drop = staged - (spec.skip ?? 0);
  if (drop < 0) throw new Error(`${t.node} holds ${staged} bytes of the stream, fewer than the ${spec.skip} the sender leaves out.`);
  if (t.stagingPath === undefined && staged > 0) throw new Error(`${t.node} has no staging file to resume from.`);
  if (spec.mode === 'tcp' && t.stagingPath !== undefined) throw new Error('tcp mode does not stage: its listen cannot wait for a replay.');
  const w = words ?? { path: t.stagingPath === undefined ? '' : quote(t.stagingPath), staged: String(staged), drop: String(drop) };
  const free = `free@${t.node}`;
  const lock = quote(receiveLockPath(spec.transferId, t.node));
  const owner = quote(snapshotLockPath(t.finalPath));
  const refuse = `echo "icbd:exit:${free}:1" >&2; exit 1`;
  const check = [
    `exec 9>${lock} && flock -n 9 || { echo ${quote(`${t.node} is already receiving this transfer`)} >&2; ${refuse}; }`,
    `exec 8<>${owner} && flock -n 8 || { echo ${quote(`${t.node} is already receiving ${t.finalPath} (transfer `)}"$(cat ${owner})"${quote('): wait for that transfer to end, or cancel it, then push again')} >&2; ${refuse}; }`,
    `icbd_stage=${w.path} icbd_staged=${w.staged} icbd_drop=${w.drop}`,
    // A subvolume beside our staging file is our own receive cut short: received again from the
    // staged bytes. Without one, the number is someone else's.
    `if [ -e ${quote(t.finalPath)} ]; then`,
    `  if [ -n "$icbd_stage" ] && [ -e "$icbd_stage" ]; then btrfs subvolume delete ${quote(t.finalPath)} >/dev/null || { echo ${quote(`cannot delete the cut-short receive ${t.finalPath}`)} >&2; ${refuse}; }`,
    `  else echo ${quote(`${t.finalPath} already exists`)} >&2; ${refuse}; fi`,
    'fi',
    `printf %s ${quote(spec.transferId)} > ${owner}`,
    'if [ -n "$icbd_stage" ]; then',
    `  mkdir -p -m 700 "\${icbd_stage%/*}" || { echo "cannot create \${icbd_stage%/*}" >&2; ${refuse}; }`,
    `  if [ "$icbd_staged" -eq 0 ]; then : > "$icbd_stage" || { echo "cannot create $icbd_stage" >&2; ${refuse}; }`,
    `  elif [ "$(stat -c %s "$icbd_stage" 2>/dev/null)" != "$icbd_staged" ]; then echo "$icbd_stage does not hold the $icbd_staged bytes the resume starts from" >&2; ${refuse}; fi`,
    'fi',
    `echo "icbd:exit:${free}:0" >&2`,
  ];
  const stages: string[] = [];
  const markers: string[] = [free];
  const decompress = decompressArgv(spec.codec);
  if (decompress) {
    stages.push(stage(`decompress@${t.node}`, decompress));
    markers.push(`decompress@${t.node}`);
  }
  const receive = stage(`receive@${t.node}`, ['btrfs', 'receive', t.imageDir]);
  // Written by hand, not with stage(): their arguments are the variables above.
  const marked = (name: string, text: string) => `{ ${text}; echo "icbd:exit:${name}@${t.node}:$?" >&2; }`;
  const keep = `if [ "$icbd_drop" -gt 0 ]; then ${marked('skip', 'tail -c "+$((icbd_drop + 1))"')} | ${marked('stage', 'tee -a "$icbd_stage"')}; else ${marked('stage', 'tee -a "$icbd_stage"')}; fi`;
  const replay = `if [ "$icbd_staged" -gt 0 ]; then ${marked('replay', 'cat "$icbd_stage"')}; fi`;
  if (t.stagingPath !== undefined) {
    if (staged > 0) markers.push(`replay@${t.node}`);
    if (drop > 0) markers.push(`skip@${t.node}`);
    markers.push(`stage@${t.node}`);
  }
  markers.push(`receive@${t.node}`);
  let received = `if [ -n "$icbd_stage" ]; then { ${replay}; ${pipeline([...stages, keep])}; } | ${receive}; else ${pipeline([...stages, receive])}; fi`;
  if (spec.mode === 'tcp') {
    if (t.tcpPort === undefined) throw new Error(`No tcp port for ${t.node}.`);
    // The secret is checked first (dd reads exactly its 32 bytes), and only then does the rest
    // of the stream go on; the auth marker is named before listen's, whose exit follows from it.
    const listen = listenAddress(t.tcpPort, t.address, spec.sourceAddress);
    const auth = `auth@${t.node}`;
    const refused = `${t.node}: the tcp stream did not start with this transfer's secret: refused before btrfs receive saw a byte (another host connected first?)`;
    received = [
      `${stage(`listen@${t.node}`, ['socat', '-u', ...SOCAT_BLOCK, listen, 'STDOUT'])} | {`,
      `  if [ "$(dd bs=32 count=1 iflag=fullblock 2>/dev/null)" = "$icbd_secret" ]; then echo "icbd:exit:${auth}:0" >&2; else echo ${quote(refused)} >&2; echo "icbd:exit:${auth}:1" >&2; exit 1; fi`,
      `  ${pipeline([...stages, receive])}`,
      '}',
    ].join('\n');
    markers.splice(1, 0, auth, `listen@${t.node}`);
  }
  // The staged stream stays until the app has compared it with what was sent (a stream cut at a
  // command boundary looks complete to btrfs receive). The lock goes with the end of the last
  // process that held it: a receive that ran its course leaves nothing in /run/lock.
  const run = [`${command(['mkdir', '-p', t.imageDir])} && ${received}`, `rc=$?; rm -f ${lock}; exit $rc`];
  // tcp: the secret comes first on stdin, before anything is looked at; no listen without it.
  const secret = spec.mode === 'tcp' ? ['IFS= read -r icbd_secret || exit 1'] : [];
  return { script: [...secret, ...check, ...run].join('\n'), markers };
}

/** What direct mode asks a receiver's RECEIVE_WRAPPER for: the values its receiving end is built from (`-`: nothing staged). */
function receiveRequest(spec: Pick<PipelineSpec, 'codec' | 'transferId' | 'skip'>, t: Pick<PipelineTarget, 'node' | 'imageDir' | 'finalPath' | 'stagingPath' | 'staged'>): string[] {
  const staged = t.staged ?? 0;
  return ['receive', spec.codec, spec.transferId, t.node, t.imageDir, t.finalPath, t.stagingPath ?? '-', String(staged), String(staged - (spec.skip ?? 0))];
}

// Stand-ins for the request's values in the wrapper's copy of receiverScript: words quote() leaves bare.
const SLOTS = { transfer: 'ICBDSLOTTRANSFER', node: 'icbdslotnode', dir: '/ICBDSLOTDIR', final: '/ICBDSLOTFINAL', stage: '/ICBDSLOTSTAGEFILE', staged: 'ICBDSLOTSTAGEDBYTES', drop: 'ICBDSLOTDROPBYTES' } as const;

/**
 * The forced command of the replication key on a receiver (placed by the installer's trust). It
 * validates SSH_ORIGINAL_COMMAND word by word and runs the very script receiverScript builds,
 * with the validated words in the slots (a copy per codec, made here, so there is one builder):
 * `true ID` (the access check: receiveWrapperId), `probe` (auto compression's link probe: reads for 2 s, prints a count) and
 * `receive CODEC TRANSFER NODE DIR DIR/N STAGE STAGED DROP` with DIR inside the node's repository
 * `root`, STAGE `-` (nothing staged) or a file of `root`/.icbd-staging, STAGED and DROP whole
 * numbers of bytes (DROP ≤ STAGED), nothing else. Every value is plain [A-Za-z0-9._/@-] with no
 * `..`, so it reads the same quoted or not, in sed or in sh.
 */
export function receiveWrapper(root: string): string {
  return wrapperText(root, receiveWrapperId(root));
}

/**
 * What the access check asks a receiver's wrapper to confirm (`true ID`): a digest of the wrapper
 * this console writes for that repository. A wrapper an older console wrote, or written for another
 * repository path, fails the check, and the plan offers to set up node keys (which writes it anew)
 * instead of the receive being refused mid-push.
 */
export function receiveWrapperId(root: string): string {
  return createHash('sha256').update(wrapperText(root, 'ICBDWRAPPERID')).digest('hex').slice(0, 16);
}

function wrapperText(root: string, id: string): string {
  const template = (codec: Codec) => {
    const t = { node: SLOTS.node, address: '', user: 'root', sshPort: 22, imageDir: SLOTS.dir, finalPath: SLOTS.final, stagingPath: SLOTS.stage };
    const words = { path: SLOTS.stage, staged: SLOTS.staged, drop: SLOTS.drop };
    return receiverScript({ transferId: SLOTS.transfer, mode: 'direct', codec, meter: false, teeKeepsGoing: false, snapshotPath: '/', parentPath: null, targets: [t] }, t, words).script;
  };
  return [
    '#!/bin/sh',
    '# iCBD Console: the forced command of the source\'s replication key (authorized_keys command=).',
    '# It runs the receiving end of a push and nothing else; anything else is refused.',
    'refuse() { echo "icbd receive: refused: $*" >&2; exit 126; }',
    `root=${quote(root)}`,
    'set -f',
    'set -- ${SSH_ORIGINAL_COMMAND:-}',
    'set +f',
    'case "${1:-}" in',
    `  true) [ $# -eq 2 ] && [ "$2" = ${id} ] && exit 0; refuse "this receive wrapper is not the one the console expects (written by another version of it, or for another repository path): set up node keys again" ;;`,
    // Auto compression's link probe (commands.ts): reads what comes for 2 s, writes nothing anywhere.
    `  probe) [ $# -eq 1 ] || refuse "probe takes no arguments"; exec sh -c ${quote(LINK_PROBE_RECEIVER)} ;;`,
    '  receive) [ $# -eq 9 ] || refuse "receive takes CODEC TRANSFER NODE DIR DIR/NUMBER STAGE STAGED DROP (set up node keys again after an update of the console)" ;;',
    '  *) refuse "this key may only receive a replication stream" ;;',
    'esac',
    'transfer=$3 node=$4 dir=$5 final=$6 stage=$7 staged=$8 drop=$9',
    "case $transfer in ''|*[!A-Za-z0-9-]*) refuse \"transfer id $transfer\" ;; esac",
    "case $node in ''|*[!a-z0-9-]*) refuse \"node name $node\" ;; esac",
    "case $dir in /*) ;; *) refuse \"$dir is not absolute\" ;; esac",
    "case $dir in *[!A-Za-z0-9._/-]*|*//*|*/|*/.|*/./*|*/..|*/../*) refuse \"directory $dir\" ;; esac",
    'case $dir in "$root"/?*) ;; *) refuse "$dir is not inside the repository $root (set up node keys again after moving it)" ;; esac',
    'n=${final#"$dir"/}',
    "case $n in ''|0*|*[!0-9]*) refuse \"$final is not $dir/NUMBER\" ;; esac",
    '[ "$final" = "$dir/$n" ] || refuse "$final is not $dir/NUMBER"',
    // Byte counts: digits without a leading zero, short of the shell's 64-bit arithmetic.
    'for b in "$staged" "$drop"; do case $b in 0) ;; \'\'|0*|*[!0-9]*|???????????????????*) refuse "byte count $b" ;; esac; done',
    '[ "$drop" -le "$staged" ] || refuse "it drops $drop bytes of the $staged staged"',
    `if [ "$stage" = - ]; then`,
    '  [ "$staged" = 0 ] || refuse "nothing is staged to resume from"',
    '  stage=',
    'else',
    `  f=\${stage#"$root"/${STAGING_DIR}/}`,
    `  case $f in ''|.*|*[!A-Za-z0-9._@-]*|*..*) refuse "staging file $stage" ;; esac`,
    `  [ "$stage" = "$root/${STAGING_DIR}/$f" ] || refuse "$stage is not in $root/${STAGING_DIR}"`,
    'fi',
    'case $2 in',
    ...CODECS.flatMap((codec) => [`  ${codec}) template=$(cat <<'ICBD_TEMPLATE'`, template(codec), 'ICBD_TEMPLATE', '  ) ;;']),
    '  *) refuse "codec $2" ;;',
    'esac',
    // The snapshot's lock is named after its path with / as - (snapshotLockPath): that slot too.
    'lockname=$(printf %s "$final" | tr / -)',
    `script=$(printf '%s\\n' "$template" | sed -e "s|${SLOTS.transfer}|$transfer|g" -e "s|${SLOTS.node}|$node|g" -e "s|${snapshotLockPath(SLOTS.final)}|${snapshotLockPath('')}$lockname|g" -e "s|${SLOTS.final}|$final|g" -e "s|${SLOTS.dir}|$dir|g" -e "s|${SLOTS.stage}|$stage|g" -e "s|${SLOTS.staged}|$staged|g" -e "s|${SLOTS.drop}|$drop|g")`,
    // A login other than root receives through sudo, as relay mode's receivers do.
    '[ "$(id -u)" -eq 0 ] || exec sudo -n sh -c "$script"',
    'exec sh -c "$script"',
    '',
  ].join('\n');
}

/**
 * How many bytes a process has sent, from its /proc/PID/io on stdin: btrfs-progs ≥ 6 splice the
 * kernel's stream to stdout, so `wchar` (the kernel's writes into btrfs's own pipe) is the stream
 * exactly; older ones copied it with read() and write() in a thread, counting it twice, once in
 * `rchar`. Their small streams (≤ 1 MiB) are over-counted, at most twofold. `$1`, `$2`: counts to
 * subtract; `$3`: bytes to add (what a resume left out); `$4` = raw: the process only copies
 * (tail), all it wrote is the stream.
 */
const IO_BYTES = `icbd_bytes() { r=0 w=0; while read -r k v; do case $k in rchar:) r=$v ;; wchar:) w=$v ;; esac; done; w=$((w - \${1:-0})) r=$((r - \${2:-0})); [ "\${4:-}" != raw ] && [ "$w" -gt 1048576 ] && [ $((r * 3)) -gt "$w" ] && w=$((w - r)); echo $((w + \${3:-0})); }`;
/** This shell's own counters so far (read by this shell, not a subshell): what the end subtracts. */
const IO_BASE = 'r0=0 w0=0; while read -r k v; do case $k in rchar:) r0=$v ;; wchar:) w0=$v ;; esac; done < /proc/self/io';

/**
 * `btrfs send`, counted without a process in the data's way (pv costs its own copy and context
 * switches on every chunk: 5–15 % of a push on a loaded 2-CPU node). A loop reads the sender's
 * I/O counters once a second and prints the bytes as a bare number on stderr (what transfers/watch.ts
 * reads); once the sender is reaped its counters are part of this subshell's, which gives the
 * exact total, less what this subshell had counted before the sender (the command substitutions'
 * output). The loop is started from a command substitution so that it is not this subshell's
 * child: reaped here, its own writes (the figures it prints) would be added to the total. It keeps
 * the channel's stderr on fd 3 only, and gives it to no child (its `sleep` would hold the channel
 * open after the end).
 *
 * A resume sends the same stream again and leaves out what every receiver holds: `tail` drops it
 * on the source (reading a snapshot again costs no link) and is what is counted, from `skip` on.
 */
function sendStage(argv: readonly string[], meter: boolean, skip: number): string {
  const cut = skip > 0;
  const counted = cut ? ['tail', '-c', `+${skip + 1}`] : argv;
  const name = cut ? 'skip' : 'send';
  const before = cut ? `${stage('send', argv)} | ` : '';
  if (!meter) return `${before}${stage(name, counted)}`;
  const figures = cut ? ` ${skip} raw` : '';
  return `${before}${[
    // An asynchronous command's stdin is /dev/null unless redirected: tail reads the stream from fd 4.
    `{ ${command(counted)}${cut ? ' <&4' : ''} & s=$!`,
    `m=$( { while sleep 1 3>&-; [ -r /proc/$s/io ]; do icbd_bytes 0 0${figures} < /proc/$s/io >&3; done; } 3>&2 </dev/null >/dev/null 2>&1 & echo $! )`,
    IO_BASE,
    'wait $s; rc=$?; kill $m 2>/dev/null',
    `icbd_bytes $w0 $r0${figures} < /proc/self/io >&2; echo "icbd:exit:${name}:$rc" >&2; }${cut ? ' 4<&0' : ''}`,
  ].join('\n')}`;
}

export function sendArgv(snapshotPath: string, parentPath: string | null): string[] {
  return ['btrfs', 'send', '-q', ...(parentPath ? ['-p', parentPath] : []), snapshotPath];
}

export function buildPipeline(spec: PipelineSpec): PipelineCommands {
  if (spec.targets.length === 0) throw new Error('A transfer needs a receiver.');
  const skip = spec.skip ?? 0;
  const shared = skip > 0 ? ['send', 'skip'] : ['send'];
  const stream = [sendStage(sendArgv(spec.snapshotPath, spec.parentPath), spec.meter, skip)];
  const compress = compressArgv(spec.codec, spec.codecLevel);
  if (compress) {
    stream.push(stage('compress', compress));
    shared.push('compress');
  }
  if (spec.rateLimit !== undefined && spec.mode !== 'relay') {
    stream.push(stage('pace', paceArgv(spec.rateLimit)));
    shared.push('pace');
  }
  const perTarget: Record<string, string[]> = {};
  const receivers: HostCommand[] = [];
  const legs: { node: string; argv: string[] }[] = [];
  for (const t of spec.targets) {
    const r = receiverScript(spec, t);
    perTarget[t.node] = r.markers;
    if (spec.mode === 'direct') legs.push({ node: t.node, argv: sshArgv(t, command(receiveRequest(spec, t))) });
    else receivers.push({ host: t.node, argv: ['sh', '-c', r.script] });
    if (spec.mode === 'tcp') legs.push({ node: t.node, argv: ['socat', '-u', ...SOCAT_BLOCK, 'STDIN', connectAddress(t.address, t.tcpPort!)] });
    // Last: when the receiving end reported a failure, that is the cause, not the leg's exit.
    if (spec.mode !== 'relay') perTarget[t.node]!.push(`leg@${t.node}`);
  }
  let stdin: { stdin?: string } = {};
  if (spec.mode === 'tcp') {
    if (!spec.secret || !SECRET.test(spec.secret)) throw new Error('A tcp transfer needs its secret (tcpSecret).');
    // Into the stream ahead of its first byte, after the compressor: a receiver checks it before decompressing.
    stream[stream.length - 1] = `{ printf %s "$icbd_secret"; ${stream.at(-1)!}; }`;
    stdin = { stdin: `${spec.secret}\n` };
  }
  const sender = (script: string) => ['sh', '-c', [...(spec.mode === 'tcp' ? ['IFS= read -r icbd_secret || exit 1'] : []), ...(spec.meter ? [IO_BYTES] : []), script].join('\n')];
  if (spec.mode === 'relay') return { sender: sender(pipeline(stream)), receivers, shared, perTarget };
  const [only] = legs;
  if (legs.length === 1 && only) return { sender: sender(pipeline([...stream, stage(`leg@${only.node}`, only.argv)])), receivers, ...stdin, shared, perTarget };
  shared.push('tee');
  return { sender: sender(fanOutScript(spec, stream, legs)), receivers, ...stdin, shared, perTarget };
}

/** One stream into several legs: a FIFO per leg in a private directory, tee writing to all. */
function fanOutScript(spec: PipelineSpec, stream: string[], legs: readonly { node: string; argv: string[] }[]): string {
  const dir = `/tmp/icbd-${spec.transferId}`;
  const fifos = legs.map((_, i) => `${dir}/${i}`);
  return [
    `mkdir -m 700 ${quote(dir)} || exit 1`,
    `trap ${quote(`rm -rf ${quote(dir)}`)} EXIT`,
    "trap 'exit 143' TERM INT HUP",
    command(['mkfifo', ...fifos]),
    ...legs.map((l, i) => `${stage(`leg@${l.node}`, l.argv, ` < ${quote(fifos[i]!)}`)} &`),
    pipeline([...stream, stage('tee', ['tee', ...(spec.teeKeepsGoing ? ['-p'] : []), ...fifos], ' >/dev/null')]),
    'wait',
  ].join('\n');
}
