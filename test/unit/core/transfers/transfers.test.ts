import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { progressFigures, pruneSamples, type PushRecord } from '../../../../shared/transfers.ts';
import { pushRecord, uploadRecord } from '../../../fixtures/transfer-records.ts';
import { FanOut } from '../../../../electron/core/transfers/relay.ts';
import { NodeQueue } from '../../../../electron/core/transfers/queue.ts';
import { TransferStore } from '../../../../electron/core/transfers/store.ts';

describe('rate, percent and ETA', () => {
  it('nothing known before the first sample', () => {
    expect(progressFigures([], 1000)).toEqual({ rate: null, fraction: 0, etaSeconds: null });
    expect(progressFigures([], null)).toEqual({ rate: null, fraction: null, etaSeconds: null });
  });
  it('rate over the window, ETA from what is left', () => {
    const s = [0, 1, 2, 3, 4].map((i) => ({ at: i * 1000, bytes: i * 100 }));
    expect(progressFigures(s, 1000)).toEqual({ rate: 100, fraction: 0.4, etaSeconds: 6 });
  });
  it('smooths a burst: the window, not the last second', () => {
    const s = [...Array.from({ length: 10 }, (_, i) => ({ at: i * 1000, bytes: i * 100 })), { at: 10_000, bytes: 2900 }];
    expect(progressFigures(s, 10_000).rate).toBe(290);
  });
  it('an estimate that was low: stays under 100 %, ETA unknown', () => {
    expect(progressFigures([{ at: 0, bytes: 0 }, { at: 1000, bytes: 1200 }], 1000)).toEqual({ rate: 1200, fraction: 0.999, etaSeconds: null });
  });
  it('keeps only the samples the window needs', () => {
    const s = Array.from({ length: 30 }, (_, i) => ({ at: i * 1000, bytes: i }));
    expect(pruneSamples(s).map((x) => x.at / 1000)).toEqual([19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  });
});

describe('per-node queue', () => {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const item = (id: string, nodes: string[]) => ({
    id,
    nodes,
    start: () => {
      started.push(id);
      return new Promise<void>((r) => gates.set(id, r));
    },
  });
  beforeEach(() => {
    started.length = 0;
    gates.clear();
  });

  it('runs up to the limit per node, in order, and a waiting transfer is not overtaken on its nodes', async () => {
    const q = new NodeQueue((n) => (n === 'imgs' ? 2 : 1));
    q.add(item('a', ['imgs', 'c1']));
    q.add(item('b', ['imgs', 'c1'])); // c1 busy
    q.add(item('c', ['imgs', 'c2'])); // may run: imgs has a second slot, c2 is free
    q.add(item('d', ['imgs', 'c1'])); // waits behind b
    expect(started).toEqual(['a', 'c']);
    expect(q.waiting).toEqual(['b', 'd']);
    gates.get('a')!();
    await sleep(0);
    expect(started).toEqual(['a', 'c', 'b']);
    expect(q.remove('d')).toBe(true);
    expect(q.remove('d')).toBe(false);
    gates.get('b')!();
    gates.get('c')!();
    await sleep(0);
    expect(q.running('imgs')).toBe(0);
  });
  it('a fan-out takes a slot on each of its receivers', () => {
    const q = new NodeQueue(() => 1);
    q.add(item('fan', ['imgs', 'c1', 'c2']));
    q.add(item('other', ['x', 'c2']));
    expect(started).toEqual(['fan']);
  });
});

describe('history', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'icbd-transfers-'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  const record = (id: string, over: Partial<PushRecord> = {}): PushRecord => pushRecord({ id, image: 'img1', state: 'running', totalBytes: 100, queuedAt: Date.now(), ...over });

  it('another process (the CLI) sees the same list; the last state of each wins', async () => {
    const window = new TransferStore(home);
    await window.put(record('aaaaaaaa-1', { queuedAt: 1 }));
    await window.put(record('bbbbbbbb-2', { queuedAt: 2 }));
    await window.put(record('aaaaaaaa-1', { queuedAt: 1, state: 'done', bytes: 100, fraction: 1 }));
    const cli = new TransferStore(home);
    expect((await cli.list()).map((r) => [r.id, r.state])).toEqual([
      ['bbbbbbbb-2', 'running'],
      ['aaaaaaaa-1', 'done'],
    ]);
  });
  it('a transfer left running by a process that is gone shows as interrupted', async () => {
    const dead = new TransferStore(home, 2 ** 22 + 12345);
    await dead.put(record('cccccccc-3'));
    const r = await new TransferStore(home).get('cccccccc-3');
    expect(r?.state).toBe('failed');
    expect(r?.error?.message).toMatch(/^Interrupted/);
  });
  it('history written before uploads existed (no operation) still loads, as pushes', async () => {
    const s = new TransferStore(home);
    const { operation: _, ...old } = record('abababab-7', { state: 'done' });
    await writeFile(s.file, `${JSON.stringify({ pid: 1, record: old })}\n`);
    expect(await s.get('abababab-7')).toEqual(record('abababab-7', { state: 'done', queuedAt: old.queuedAt }));
  });
  it('keeps uploads beside pushes; an interrupted one names the staging directory to remove', async () => {
    const upload = uploadRecord({ id: 'acacacac-8', state: 'running', bytes: 10, totalBytes: 100, fraction: 0.1, queuedAt: 5 });
    await new TransferStore(home).put(upload);
    await new TransferStore(home, 2 ** 22 + 12345).put({ ...upload, id: 'adadadad-9' });
    const list = await new TransferStore(home).list();
    expect(list.find((r) => r.id === 'acacacac-8')).toEqual(upload);
    const gone = list.find((r) => r.id === 'adadadad-9');
    expect(gone?.state).toBe('failed');
    expect(gone?.error?.message).toContain('/var/lib/icbd/shared-vms/win10/.icbd-upload-adadadad-9 on imgs');
  });
  it('a torn last line is skipped', async () => {
    const s = new TransferStore(home);
    await s.put(record('dddddddd-4'));
    await writeFile(s.file, `${await readFile(s.file, 'utf8')}{"pid":1,"rec`);
    expect(await s.list()).toHaveLength(1);
  });
  it('keeps each transfer log apart', async () => {
    const s = new TransferStore(home);
    await s.log('eeeeeeee-5', 'imgs: At subvol 3', Date.UTC(2026, 0, 1));
    expect(await s.readLog('eeeeeeee-5')).toEqual(['2026-01-01T00:00:00.000Z imgs: At subvol 3']);
    expect(await s.readLog('nope-0000')).toEqual([]);
  });
  it('compacts: the file holds one line per transfer after many updates', async () => {
    const s = new TransferStore(home);
    for (let i = 0; i < 200; i++) await s.put(record('ffffffff-6', { bytes: i }));
    expect((await readFile(s.file, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect((await s.get('ffffffff-6'))?.bytes).toBe(199);
  });
});

describe('relay fan-out', () => {
  it('every receiver gets every byte, paced by the slowest', async () => {
    const fan = new FanOut();
    const fast = fan.sink();
    const slow = fan.sink();
    const got = { fast: 0, slow: 0 };
    fast.on('data', (b: Buffer) => (got.fast += b.length));
    const slowDone = (async () => {
      for await (const b of slow) {
        got.slow += (b as Buffer).length;
        await sleep(1);
      }
    })();
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(256 * 1024, 7));
    await pipeline(Readable.from(chunks), fan);
    await slowDone;
    expect(got).toEqual({ fast: 64 * 256 * 1024, slow: 64 * 256 * 1024 });
  });
  it('a receiver that stops is dropped and the others go on', async () => {
    const fan = new FanOut();
    const dead = fan.sink();
    const alive = fan.sink();
    let n = 0;
    alive.on('data', (b: Buffer) => (n += b.length));
    const source = new PassThrough();
    const done = pipeline(source, fan);
    for (let i = 0; i < 40; i++) source.write(Buffer.alloc(256 * 1024)); // more than dead's buffer
    await sleep(10);
    fan.drop(dead);
    source.end();
    await done;
    expect(n).toBe(40 * 256 * 1024);
    expect(fan.live).toBe(1);
  });
});
