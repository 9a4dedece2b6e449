import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Codec } from '../../../../shared/compression.ts';
import type { TransferMode } from '../../../../shared/transfers.ts';
import { LocalRemote } from '../../../local-remote.ts';
import { buildPipeline, receiveLockPath, receiveWrapper, sendArgv, snapshotLockPath, stagingPath, tcpSecret, type PipelineSpec } from '../../../../electron/core/replication/pipeline.ts';
import { removeReceivedArgv } from '../../../../electron/core/replication/commands.ts';
import { runText } from '../../../../electron/core/remote/node.ts';
import { runGroup, verify } from '../../../../electron/core/transfers/runner.ts';
import { resumePoint } from '../../../../electron/core/transfers/resume.ts';
import { inspectTarget } from '../../../../electron/core/transfers/reconcile.ts';

/**
 * The generated shell runs for real here, on this machine, with stand-ins for btrfs and ssh
 * (PATH first): fan-out FIFOs, tee, exit markers, compression, the relay, verification and the
 * deletion of a failed receive — everything but btrfs itself (test/lab/replication-local does
 * that part as root on loop devices).
 */
const SENT_UUID = 'c89c9649-0c57-bd4d-aed6-b1bdee5f3802';
const BTRFS = `#!/bin/sh
case "$1 $2" in
  "send -q") shift 2; [ "$1" = -p ] && shift 2; cat "$1/data" ;;
  "receive "*) d=$2; t=$(mktemp); cat > "$t"; n=$(head -n1 "$t"); mkdir -p "$d/$n"; mv "$t" "$d/$n/data"
     case "$d" in *fail*) echo "ERROR: stand-in receive failing" >&2; exit 1 ;; esac ;;
  "subvolume show") p=$4; [ -f "$p/data" ] || { echo "ERROR: Could not statfs: No such file or directory" >&2; exit 1; }
     ro=readonly; case "$p" in *bad*) ro=- ;; esac
     printf '%s\\n\\tName: x\\n\\tUUID: \\t\\t11111111-2222-3333-4444-555555555555\\n\\tParent UUID: -\\n\\tReceived UUID: \\t${SENT_UUID}\\n\\tGeneration: 9\\n\\tFlags: %s\\n' "$p" "$ro" ;;
  "subvolume delete") rm -rf "$3" ;;
  *) echo "stand-in btrfs: $*" >&2; exit 2 ;;
esac
`;
// As sshd does with a forced command: the requested line goes to the receiver's wrapper, never to a shell.
// With ICBD_TEST_CUT=N the link dies after N bytes: the receiving end gets EOF and its last
// words (the receive's exit marker) never reach the source, as behind a cut link.
const SSH = `#!/bin/sh
for last; do :; done
[ -n "$ICBD_TEST_CUT" ] || SSH_ORIGINAL_COMMAND=$last exec sh "$(dirname "$0")/receive"
{ head -c "$ICBD_TEST_CUT" | SSH_ORIGINAL_COMMAND=$last sh "$(dirname "$0")/receive" 2>&1 1>&3 | grep -v receive@ >&2; } 3>&1
exit 255
`;

let dir: string;
let oldPath: string | undefined;
const remote = new LocalRemote();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icbd-pipe-'));
  await mkdir(join(dir, 'bin'));
  for (const [name, text] of Object.entries({ btrfs: BTRFS, ssh: SSH, receive: receiveWrapper(dir) })) {
    await writeFile(join(dir, 'bin', name), text);
    await chmod(join(dir, 'bin', name), 0o755);
  }
  await mkdir(join(dir, 'src', '7'), { recursive: true });
  await writeFile(join(dir, 'src', '7', 'data'), `7\n${'payload '.repeat(50_000)}\n`);
  oldPath = process.env.PATH;
  process.env.PATH = `${join(dir, 'bin')}:${oldPath}`;
});
afterAll(async () => {
  process.env.PATH = oldPath;
  await rm(dir, { recursive: true, force: true });
});

function spec(mode: TransferMode, nodes: string[], codec: Codec = 'gzip'): PipelineSpec {
  return {
    transferId: `t${Math.random().toString(36).slice(2, 10)}`,
    mode,
    codec,
    meter: true,
    teeKeepsGoing: true,
    snapshotPath: join(dir, 'src', '7'),
    parentPath: null,
    targets: nodes.map((node) => ({
      node,
      address: '127.0.0.1',
      user: 'root',
      sshPort: 22,
      imageDir: join(dir, node, 'img'),
      finalPath: join(dir, node, 'img', '7'),
      // The wrapper's repository is `dir`: each node's staged stream is named after it there.
      ...(mode === 'tcp' ? {} : { stagingPath: stagingPath(dir, node, 7, SENT_UUID, null) }),
    })),
  };
}

const runTargets = (s: PipelineSpec) => s.targets.map((t) => ({ node: t.node, finalPath: t.finalPath, lockPath: receiveLockPath(s.transferId, t.node), stagingPath: t.stagingPath }));

async function run(s: PipelineSpec) {
  const bytes: number[] = [];
  const log: string[] = [];
  const commands = buildPipeline(s);
  const result = await runGroup({
    transferId: s.transferId,
    remote,
    mode: s.mode,
    source: 'imgs',
    sent: { uuid: SENT_UUID, receivedUuid: null },
    commands,
    targets: runTargets(s),
    signal: new AbortController().signal,
    onBytes: (b) => bytes.push(b),
    onLog: (l) => log.push(l),
    onVerifying: () => undefined,
  });
  return { result, bytes, log, commands };
}

const original = () => readFile(join(dir, 'src', '7', 'data'), 'utf8');

describe('direct mode, run for real with stand-ins', () => {
  it('one receiver: the stream arrives intact through the compressor and ssh, verified', async () => {
    const { result, bytes, commands } = await run(spec('direct', ['c1']));
    expect(result).toEqual({ targets: [{ node: 'c1', ok: true }], cancelled: false });
    expect(await readFile(join(dir, 'c1', 'img', '7', 'data'), 'utf8')).toBe(await original());
    // counted from the sender's I/O counters, exactly: the last count is the stream's size
    expect(bytes.at(-1)).toBe(Buffer.byteLength(await original()));
    expect(commands.sender[2]).toContain('aes128-gcm@openssh.com');
    expect(commands.receivers).toEqual([]);
  });

  it('fan-out: one send feeds three receivers; the one that fails is cleaned up, the others complete', async () => {
    const { result, log, commands } = await run(spec('direct', ['c2', 'fail3', 'c4']));
    expect(commands.sender[2]).toContain('mkfifo');
    expect(commands.sender[2]?.match(/btrfs send/g)).toHaveLength(1);
    expect(result.targets.map((t) => t.ok)).toEqual([true, false, true]);
    expect(result.targets[1]?.error).toMatch(/^fail3: btrfs receive on fail3 failed \(exit 1\).*stand-in receive failing; the partial snapshot .* and the bytes staged for it were deleted; imgs is untouched\.$/);
    for (const n of ['c2', 'c4']) expect(await readFile(join(dir, n, 'img', '7', 'data'), 'utf8')).toBe(await original());
    await expect(readFile(join(dir, 'fail3', 'img', '7', 'data'))).rejects.toThrow();
    expect(log.some((l) => l.startsWith('imgs: ERROR: stand-in receive failing'))).toBe(true);
  });

  it('a snapshot number that already exists is refused before receiving, and left alone', async () => {
    await mkdir(join(dir, 'c5', 'img', '7'), { recursive: true });
    await writeFile(join(dir, 'c5', 'img', '7', 'data'), 'theirs');
    const { result } = await run(spec('direct', ['c5'], 'none'));
    expect(result.targets[0]?.error).toMatch(/the check that the snapshot is not there yet on c5 failed.*already exists; nothing of it was received/);
    expect(await readFile(join(dir, 'c5', 'img', '7', 'data'), 'utf8')).toBe('theirs');
  });

  it('a receive that does not verify (not read-only) is deleted', async () => {
    const { result } = await run(spec('direct', ['bad6']));
    expect(result.targets[0]?.error).toMatch(/verification failed: the received subvolume is not read-only.*were deleted/);
    await expect(readFile(join(dir, 'bad6', 'img', '7', 'data'))).rejects.toThrow();
  });
});

describe('resume', () => {
  const resume = (s: PipelineSpec, log: string[] = []) => resumePoint({ remote, source: 'imgs', spec: s, targets: runTargets(s), onLog: (l) => log.push(l) });

  for (const mode of ['direct', 'relay'] as const)
    it(`${mode}: a receiver lost mid-stream keeps what arrived; the resume sends only the rest and verifies the whole`, async () => {
      const s = spec(mode, [`cut-${mode}`], 'none');
      let first;
      if (mode === 'direct') {
        process.env.ICBD_TEST_CUT = '100000';
        first = await run(s).finally(() => delete process.env.ICBD_TEST_CUT);
      } else {
        // relay: the app's connection to the receiver is what breaks: its receiving end (a process group) is killed after 100000 bytes
        const c = buildPipeline(s);
        c.receivers[0]!.argv[2] = c.receivers[0]!.argv[2]!.replaceAll('tee -a "$icbd_stage"; echo', () => 'head -c 100000 | tee -a "$icbd_stage"; kill -9 0; echo');
        const result = await runGroup({ transferId: s.transferId, remote, mode, source: 'imgs', sent: { uuid: SENT_UUID, receivedUuid: null }, commands: c, targets: runTargets(s), signal: new AbortController().signal, onBytes: () => undefined, onLog: () => undefined, onVerifying: () => undefined });
        first = { result };
      }
      expect(first.result.targets).toEqual([expect.objectContaining({ node: `cut-${mode}`, ok: false, interrupted: true })]);
      expect((await stat(s.targets[0]!.stagingPath!)).size).toBe(100_000);

      const log: string[] = [];
      const resumed = await resume(s, log);
      expect(resumed.skip).toBe(100_000);
      expect(log.join('\n')).toMatch(new RegExp(`cut-${mode} holds the first 100000 bytes of this stream .* resuming from there`));
      const second = await run(resumed);
      expect(second.result.targets).toEqual([{ node: `cut-${mode}`, ok: true }]);
      expect(await readFile(join(dir, `cut-${mode}`, 'img', '7', 'data'), 'utf8')).toBe(await original());
      // counted from where it resumed: the last count is the whole stream, none below the skipped bytes
      expect(second.bytes.at(-1)).toBe(Buffer.byteLength(await original()));
      expect(second.bytes.every((b) => b >= 100_000)).toBe(true);
      expect(existsSync(s.targets[0]!.stagingPath!)).toBe(false);
    });

  it('a staged prefix that is not the start of this stream is said, and the push starts over', async () => {
    const s = spec('direct', ['other2'], 'gzip');
    await mkdir(join(dir, '.icbd-staging'), { recursive: true });
    await writeFile(s.targets[0]!.stagingPath!, 'not this stream');
    const log: string[] = [];
    const resumed = await resume(s, log);
    expect(resumed.skip).toBe(0);
    expect(resumed.targets[0]!.staged).toBe(0);
    expect(log.join('\n')).toMatch(/other2's staged 15 bytes are not the start of this stream .*starting over/);
    const { result } = await run(resumed);
    expect(result.targets).toEqual([{ node: 'other2', ok: true }]);
    expect(await readFile(join(dir, 'other2', 'img', '7', 'data'), 'utf8')).toBe(await original());
  });

  it('a receiving end refuses to append when its staging file is not the size the resume starts from', async () => {
    const s = spec('direct', ['grown3'], 'none');
    await mkdir(join(dir, '.icbd-staging'), { recursive: true });
    await writeFile(s.targets[0]!.stagingPath!, (await original()).slice(0, 500));
    const { result } = await run({ ...s, skip: 400, targets: [{ ...s.targets[0]!, staged: 400 }] });
    expect(result.targets[0]?.error).toMatch(/does not hold the 400 bytes the resume starts from; nothing of it was received/);
    expect((await stat(s.targets[0]!.stagingPath!)).size).toBe(500);
  });

  it('a stream that arrived short of what was sent does not count, even when btrfs receive took it', async () => {
    const s = spec('direct', ['short4'], 'none');
    const t = runTargets(s)[0]!;
    // What a receive of a stream cut at a command boundary leaves: a complete-looking subvolume, 1000 bytes staged.
    await mkdir(t.finalPath, { recursive: true });
    await writeFile(join(t.finalPath, 'data'), 'x');
    await mkdir(join(dir, '.icbd-staging'), { recursive: true });
    await writeFile(t.stagingPath!, 'y'.repeat(1000));
    const sent = { uuid: SENT_UUID, receivedUuid: null };
    expect(await verify(remote, t, sent, 3 * 2 ** 20)).toBe(`the stream arrived incomplete: 1000 of the ${3 * 2 ** 20} bytes sent are on short4`);
    // The sender's count of a stream under 1 MiB is not exact (a tiny incremental counts 0): not held against it.
    expect(await verify(remote, t, sent, 0)).toBeUndefined();
    expect(existsSync(t.stagingPath!)).toBe(false);
  });

  it('a receiver without room to stage receives without staging: lost mid-stream, it is sent everything again', async () => {
    const s = spec('direct', ['nostage5'], 'gzip');
    const plain = { ...s, targets: [{ ...s.targets[0]!, stagingPath: undefined }] };
    const c = buildPipeline(plain);
    expect(c.sender[2]).toContain(`'receive gzip ${s.transferId} nostage5 ${s.targets[0]!.imageDir} ${s.targets[0]!.finalPath} - 0 0'`);
    expect(c.perTarget.nostage5).toEqual(['free@nostage5', 'decompress@nostage5', 'receive@nostage5', 'leg@nostage5']);
    process.env.ICBD_TEST_CUT = '1000';
    const { result } = await run(plain).finally(() => delete process.env.ICBD_TEST_CUT);
    expect(result.targets[0]).toMatchObject({ ok: false, interrupted: true });
    expect(existsSync(s.targets[0]!.stagingPath!)).toBe(false);
    const again = await resume(plain);
    expect([again.skip, again.targets[0]!.staged]).toEqual([0, 0]);
  });
});

describe('reconcile: what a receiver holds of a push whose console went away', () => {
  const inspect = (s: PipelineSpec) => inspectTarget({ remote, source: 'imgs', send: sendArgv(s.snapshotPath, null), target: runTargets(s)[0]!, sent: { uuid: SENT_UUID, receivedUuid: null }, transferId: s.transferId });
  const place = async (s: PipelineSpec, o: { staged?: string; received?: boolean }) => {
    const t = s.targets[0]!;
    if (o.staged !== undefined) {
      await mkdir(join(dir, '.icbd-staging'), { recursive: true });
      await writeFile(t.stagingPath!, o.staged);
    }
    if (o.received) {
      await mkdir(t.finalPath, { recursive: true });
      await writeFile(join(t.finalPath, 'data'), o.staged ?? '');
    }
  };

  it('complete, verified, and its staged stream the whole stream: done, the staged stream deleted', async () => {
    const s = spec('direct', ['rec1']);
    await place(s, { staged: await original(), received: true });
    expect(await inspect(s)).toEqual({ state: 'done' });
    expect(existsSync(s.targets[0]!.stagingPath!)).toBe(false);
  });

  it('complete-looking but its staged stream shorter than the stream: partial, never done', async () => {
    const s = spec('direct', ['rec2']);
    await place(s, { staged: (await original()).slice(0, 5000), received: true });
    expect(await inspect(s)).toEqual({ state: 'partial', staged: 5000 });
  });

  it('part of the stream staged and no subvolume: partial; nothing at all: absent', async () => {
    const s = spec('direct', ['rec3']);
    await place(s, { staged: (await original()).slice(0, 700) });
    expect(await inspect(s)).toEqual({ state: 'partial', staged: 700 });
    expect(await inspect(spec('direct', ['rec4']))).toEqual({ state: 'absent', detail: 'nothing of it is on rec4' });
  });

  it('a partial receive with nothing staged beside it: deleted when the snapshot lock names the push, left alone otherwise', async () => {
    // "bad": the stand-in shows it writable, as a receive cut short leaves it
    const s = spec('direct', ['bad6']);
    const t = runTargets(s)[0]!;
    await place(s, { received: true });
    const lock = snapshotLockPath(t.finalPath);
    await writeFile(lock, 'tother123');
    try {
      const cut = `${t.finalPath} on bad6 is not a complete receive and nothing was staged beside it: `;
      expect(await inspect(s)).toEqual({ state: 'absent', detail: `${cut}${t.finalPath} was left alone: it is transfer tother123's` });
      expect(existsSync(t.finalPath)).toBe(true);
      await writeFile(lock, s.transferId);
      expect(await inspect(s)).toEqual({ state: 'absent', detail: `${cut}the partial snapshot ${t.finalPath} was deleted` });
      expect(existsSync(t.finalPath)).toBe(false);
    } finally {
      await rm(lock, { force: true });
    }
  });
});

describe('the clean-up of a failed receive', () => {
  // A receiving end in a session of its own, as under sshd: the sender's cancel does not reach it.
  // It holds the snapshot's lock too, which names it: only its own clean-up deletes what it made.
  const owned = (final: string) => join(dir, `owner-${final.split('/').at(-3)}`);
  function receiving(lock: string, final: string, script: string) {
    const child = spawn('setsid', ['sh', '-c', `exec 9>"$1"; flock -n 9 || exit 9; exec 8<>"$3"; flock -n 8 || exit 8; printf t1 > "$3"; ${script}`, 'sh', lock, final, owned(final)], { stdio: 'ignore' });
    return new Promise<void>((resolve) => setTimeout(resolve, 300)).then(() => child);
  }

  it('waits for a receive still working through its input, then deletes what it made after the first look', async () => {
    const lock = join(dir, 'lock-slow');
    const final = join(dir, 'slow', 'img', '7');
    // deaf to TERM, like a receive inside an ioctl: it makes its subvolume only after the clean-up has started
    await receiving(lock, final, `trap '' TERM; sleep 1.5; mkdir -p "$2"; echo x > "$2/data"`);
    const r = await runText(remote, 'slow', removeReceivedArgv(final, lock, owned(final), 't1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('icbd:deleted');
    expect(existsSync(final)).toBe(false);
    expect(existsSync(lock)).toBe(false);
  });

  it('stops a receive that would wait for input forever (its sender gone behind a lost link)', async () => {
    const lock = join(dir, 'lock-stuck');
    const final = join(dir, 'stuck', 'img', '7');
    const child = await receiving(lock, final, `mkdir -p "$2"; sleep 600`);
    const t0 = Date.now();
    const r = await runText(remote, 'stuck', removeReceivedArgv(final, lock, owned(final), 't1'));
    expect(r.stdout).toContain('icbd:deleted');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(final)).toBe(false);
    await new Promise((resolve) => (child.exitCode === null && child.signalCode === null ? child.on('exit', resolve) : resolve(undefined)));
  });

  it('finds nothing to do when the receive ran its course (its lock is gone) and made nothing', async () => {
    const r = await runText(remote, 'none', removeReceivedArgv(join(dir, 'none', 'img', '7'), join(dir, 'lock-none'), join(dir, 'owner-none'), 't1'));
    expect(r).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('two receives of one snapshot', () => {
  it('the second is refused before it receives, naming the first; its clean-up leaves the first one’s snapshot alone', async () => {
    const first = spec('direct', ['dup'], 'none');
    const final = first.targets[0]!.finalPath;
    const owner = snapshotLockPath(final);
    await rm(owner, { force: true });
    // The first holds the node's lock for that snapshot, as a receive does while it runs.
    const holder = spawn('sh', ['-c', 'exec 8<>"$1"; flock -n 8 || exit 8; printf %s "$2" > "$1"; sleep 3', 'sh', owner, first.transferId], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      const { result } = await run({ ...spec('direct', ['dup'], 'none'), transferId: 'tsecond1' });
      expect(result.targets[0]?.error).toMatch(new RegExp(`dup is already receiving .*7 \\(transfer ${first.transferId}\\): wait for that transfer to end, or cancel it.*nothing of it was received`));
      expect(existsSync(final)).toBe(false);
      // Whatever is there later belongs to the first: a late clean-up by the second deletes nothing.
      await mkdir(final, { recursive: true });
      await writeFile(join(final, 'data'), 'first');
      await new Promise((resolve) => holder.on('exit', resolve));
      const r = await runText(remote, 'dup', removeReceivedArgv(final, receiveLockPath('tsecond1', 'dup'), owner, 'tsecond1'));
      expect(r.stdout.trim()).toBe(`icbd:owner ${first.transferId}`);
      expect(await readFile(join(final, 'data'), 'utf8')).toBe('first');
    } finally {
      holder.kill();
      await rm(owner, { force: true });
    }
  });
});

describe('relay mode', () => {
  it('the app pipes one send into two receives', async () => {
    const s = spec('relay', ['r1', 'r2'], 'gzip');
    const { result, commands } = await run(s);
    expect(commands.sender[2]).not.toContain('ssh');
    expect(commands.receivers.map((r) => r.host)).toEqual(['r1', 'r2']);
    expect(result.targets.every((t) => t.ok)).toBe(true);
    for (const n of ['r1', 'r2']) expect(await readFile(join(dir, n, 'img', '7', 'data'), 'utf8')).toBe(await original());
  });
});

describe('tcp mode (commands only: socat listens on the receiver)', () => {
  it('listens once, only for the source, with a deadline; the source connects with retries; 128 KiB a call', () => {
    const secret = tcpSecret();
    const s = { ...spec('tcp', ['t1']), sourceAddress: '10.0.0.1', secret, targets: [{ ...spec('tcp', ['t1']).targets[0]!, address: '10.0.0.2', tcpPort: 40000 }] };
    const c = buildPipeline(s);
    expect(c.receivers[0]?.argv[2]).toContain("socat -u -b 131072 'TCP-LISTEN:40000,bind=10.0.0.2,reuseaddr,range=10.0.0.1/32,accept-timeout=60' STDOUT");
    expect(c.sender[2]).toContain("socat -u -b 131072 STDIN 'TCP:10.0.0.2:40000,retry=100,interval=0.1'");
    expect(c.sender[2]).not.toContain('ssh');
    // The auth marker comes before listen's: a refused stream is named for what it is.
    expect(c.perTarget.t1).toEqual(['free@t1', 'auth@t1', 'listen@t1', 'decompress@t1', 'receive@t1', 'leg@t1']);
    // The secret travels on stdin, never in a command line.
    expect(c.stdin).toBe(`${secret}\n`);
    expect(JSON.stringify([c.sender, c.receivers])).not.toContain(secret);
    expect(() => buildPipeline({ ...s, secret: undefined })).toThrow(/secret/);
  });
  it('direct mode logs in with the replication key alone and asks the wrapper for a receive, sending no script', () => {
    const s = spec('direct', ['u1']);
    const c = buildPipeline({ ...s, targets: [{ ...s.targets[0]!, user: 'icbd' }] });
    expect(c.sender[2]).toContain("ssh -T -x -i /root/.ssh/id_icbd_replication -o 'IdentitiesOnly=yes'");
    expect(c.sender[2]).toContain(`icbd@127.0.0.1 'receive gzip ${s.transferId} u1 ${s.targets[0]!.imageDir} ${s.targets[0]!.finalPath} ${s.targets[0]!.stagingPath} 0 0'`);
    expect(c.sender[2]).not.toContain('btrfs receive');
  });
});
