import { compressArgv, decompressArgv, type Codec, type ZstdLevel } from '../../../shared/compression.ts';
import { command, quote } from '../../../shared/shell.ts';
import type { TransferMode } from '../../../shared/transfers.ts';
import { pipeline, stage } from './commands.ts';

/**
 * The commands of one transfer: a single `btrfs send` read once, measured, compressed once, and
 * fed to every receiver of the group.
 *
 * direct: `send | zstd | ssh cache 'zstd -d | btrfs receive STAGE'` runs on the source; with
 *   several receivers, tee writes into one FIFO per ssh. The app runs one command and watches.
 * relay: the source runs `send | zstd` to stdout, each receiver `zstd -d | btrfs receive`
 *   from stdin; the app pipes one into the others (relay.ts).
 * tcp: each receiver runs `socat TCP-LISTEN (once) | zstd -d | btrfs receive`; the source connects
 *   to it with socat in place of ssh. Control stays on SSH; the data is not encrypted.
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
  /** tcp: the source's replication address; receivers accept a connection from it only. */
  sourceAddress?: string;
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
  /** Exit markers every stage must report with 0: for the whole stream, and per receiver. */
  shared: string[];
  perTarget: Record<string, string[]>;
}

// aes128-gcm first: the fastest cipher with AES-NI (PERF-NOTES: 356 vs 300 MB/s for chacha20);
// the others keep a server that refuses it reachable.
const CIPHERS = 'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com';

export type SshLeg = Pick<PipelineTarget, 'address' | 'user' | 'sshPort'>;

export function sshArgv(t: SshLeg, remoteLine: string): string[] {
  return [
    'ssh', '-T', '-x',
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
  return v6(bind) ? `TCP6-LISTEN:${port},bind=[${bind}],reuseaddr${range}` : `TCP-LISTEN:${port},bind=${bind},reuseaddr${range}`;
}
function connectAddress(host: string, port: number): string {
  // The receiver is started first but may take a moment to listen: retry for ≈ 10 s.
  return v6(host) ? `TCP6:[${host}]:${port},retry=100,interval=0.1` : `TCP:${host}:${port},retry=100,interval=0.1`;
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
 * The receiving end's script. btrfs receive names the subvolume after the sent one, in the
 * directory it is given, and a read-only subvolume cannot be moved to another directory
 * afterwards (rename fails with EROFS), so the stream is received in place. The `free` marker
 * proves the number did not exist before: only then may a failed transfer delete what is there.
 */
function receiverScript(spec: PipelineSpec, t: PipelineTarget): { script: string; markers: string[] } {
  const free = `free@${t.node}`;
  const lock = quote(receiveLockPath(spec.transferId, t.node));
  const check = [
    `exec 9>${lock} && flock -n 9 || { echo ${quote(`${t.node} is already receiving this transfer`)} >&2; echo "icbd:exit:${free}:1" >&2; exit 1; }`,
    `if [ -e ${quote(t.finalPath)} ]; then echo ${quote(`${t.finalPath} already exists`)} >&2; echo "icbd:exit:${free}:1" >&2; exit 1; fi`,
    `echo "icbd:exit:${free}:0" >&2`,
  ];
  const stages: string[] = [];
  const markers: string[] = [free];
  if (spec.mode === 'tcp') {
    if (t.tcpPort === undefined) throw new Error(`No tcp port for ${t.node}.`);
    stages.push(stage(`listen@${t.node}`, ['socat', '-u', listenAddress(t.tcpPort, t.address, spec.sourceAddress), 'STDOUT']));
    markers.push(`listen@${t.node}`);
  }
  const decompress = decompressArgv(spec.codec);
  if (decompress) {
    stages.push(stage(`decompress@${t.node}`, decompress));
    markers.push(`decompress@${t.node}`);
  }
  stages.push(stage(`receive@${t.node}`, ['btrfs', 'receive', t.imageDir]));
  markers.push(`receive@${t.node}`);
  // The lock goes with the end of the last process that held it: a receive that ran its course
  // leaves nothing in /run/lock.
  const receive = [`${command(['mkdir', '-p', t.imageDir])} && ${pipeline(stages)}`, `rc=$?; rm -f ${lock}; exit $rc`];
  return { script: [...check, ...receive].join('\n'), markers };
}

/**
 * How many bytes a process has sent, from its /proc/PID/io on stdin: btrfs-progs ≥ 6 splice the
 * kernel's stream to stdout, so `wchar` (the kernel's writes into btrfs's own pipe) is the stream
 * exactly; older ones copied it with read() and write() in a thread, counting it twice, once in
 * `rchar`. Their small streams (≤ 1 MiB) are over-counted, at most twofold.
 */
const IO_BYTES = `icbd_bytes() { r=0 w=0; while read -r k v; do case $k in rchar:) r=$v ;; wchar:) w=$v ;; esac; done; [ "$w" -gt 1048576 ] && [ $((r * 3)) -gt "$w" ] && w=$((w - r)); echo "$w"; }`;

/**
 * `btrfs send`, counted without a process in the data's way (pv costs its own copy and context
 * switches on every chunk: 5–15 % of a push on a loaded 2-CPU node). A loop reads the sender's
 * I/O counters once a second and prints the bytes as a bare number on stderr (what watch.ts
 * reads); once the sender is reaped its counters are part of this subshell's, which gives the
 * exact total. The loop keeps the channel's stderr on fd 3 only, and gives it to no child (its
 * `sleep` would hold the channel open after the end).
 */
function sendStage(argv: readonly string[], meter: boolean): string {
  if (!meter) return stage('send', argv);
  return [
    `{ ${command(argv)} & s=$!`,
    '{ while sleep 1 3>&-; [ -r /proc/$s/io ]; do icbd_bytes < /proc/$s/io >&3; done; } 3>&2 </dev/null >/dev/null 2>&1 & m=$!',
    'wait $s; rc=$?; kill $m 2>/dev/null',
    'icbd_bytes < /proc/self/io >&2; echo "icbd:exit:send:$rc" >&2; }',
  ].join('\n');
}

export function buildPipeline(spec: PipelineSpec): PipelineCommands {
  if (spec.targets.length === 0) throw new Error('A transfer needs a receiver.');
  const shared = ['send'];
  const stream = [sendStage(['btrfs', 'send', '-q', ...(spec.parentPath ? ['-p', spec.parentPath] : []), spec.snapshotPath], spec.meter)];
  const compress = compressArgv(spec.codec, spec.codecLevel);
  if (compress) {
    stream.push(stage('compress', compress));
    shared.push('compress');
  }
  const perTarget: Record<string, string[]> = {};
  const receivers: HostCommand[] = [];
  const legs: { node: string; argv: string[] }[] = [];
  for (const t of spec.targets) {
    const r = receiverScript(spec, t);
    perTarget[t.node] = r.markers;
    const root = t.user === 'root' ? ['sh', '-c', r.script] : ['sudo', '-n', 'sh', '-c', r.script];
    if (spec.mode === 'direct') legs.push({ node: t.node, argv: sshArgv(t, command(root)) });
    else receivers.push({ host: t.node, argv: ['sh', '-c', r.script] });
    if (spec.mode === 'tcp') legs.push({ node: t.node, argv: ['socat', '-u', 'STDIN', connectAddress(t.address, t.tcpPort!)] });
    // Last: when the receiving end reported a failure, that is the cause, not the leg's exit.
    if (spec.mode !== 'relay') perTarget[t.node]!.push(`leg@${t.node}`);
  }
  const sender = (script: string) => ['sh', '-c', spec.meter ? `${IO_BYTES}\n${script}` : script];
  if (spec.mode === 'relay') return { sender: sender(pipeline(stream)), receivers, shared, perTarget };
  const [only] = legs;
  if (legs.length === 1 && only) return { sender: sender(pipeline([...stream, stage(`leg@${only.node}`, only.argv)])), receivers, shared, perTarget };
  shared.push('tee');
  return { sender: sender(fanOutScript(spec, stream, legs)), receivers, shared, perTarget };
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
