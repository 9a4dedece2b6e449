/**
 * Issue 6's benchmark: the app's pushes against the raw pipes an operator would type, in one run,
 * on one snapshot, on a lab of its own with 3 caches. Prints; asserts nothing.
 *
 *   npx tsx test/bench/replication.bench.ts          (ICBD_BENCH_MB=768, ICBD_BENCH_RUNS=3)
 *
 * The site rows (site-rows.ts) send an image of ICBD_BENCH_SITE_MB (192) over shaped links;
 * ICBD_BENCH_ROWS=site runs only them (a smoke: ICBD_BENCH_SITE_MB=16 ICBD_BENCH_RUNS=1).
 *
 * Rows are interleaved (run 1 of every row, then run 2 …) so that a slow spell of the machine —
 * other labs share its 2 cores — lands on every row alike. Before each run the received
 * snapshots are deleted, btrfs is waited for, and the machine's page cache is emptied.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Core } from '../../electron/core/core.ts';
import { addLabHosts, trustLabHostKeys } from '../../electron/core/lab/inventory.ts';
import { labDown, labUp, type LabInfo } from '../../electron/core/lab/index.ts';
import { cryptoBindingAvailable } from '../../electron/core/ssh/algorithms.ts';
import type { Asker } from '../../electron/core/util/prompts.ts';
import type { PushInput } from '../../shared/transfers.ts';
import { prepareReplication, trustRootKey } from '../lab/replication-fixture.ts';
import { BenchLab, IMAGE, ROOT } from './bench-lab.ts';
import { median, mbps, met, ratiosTable, rowsTable, type Ratio, type Row } from './bench-table.ts';
import { SITE_IMAGE, siteRows } from './site-rows.ts';

const MIB = Number(process.env.ICBD_BENCH_MB ?? 768);
const RUNS = Number(process.env.ICBD_BENCH_RUNS ?? 3);
const SITE_MIB = Number(process.env.ICBD_BENCH_SITE_MB ?? 192);
const ONLY_SITE = process.env.ICBD_BENCH_ROWS === 'site';
const SAME_CIPHER = ['-c', 'aes128-gcm@openssh.com'];
const CACHES = ['cache01', 'cache02', 'cache03'];
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** imgs on iCBD-Net (electron/core/lab/topology.ts). */
const ICBD_NET_IMGS = '10.213.2.251';

interface Spec {
  name: string;
  /** Receivers to clean before each run. */
  nodes: readonly string[];
  number: number;
  run(): Promise<number>;
  note?: string;
  /** Checksum the received data after the first run (one row per kind of transport is enough). */
  checksum?: boolean;
}

const asker: Asker = { askHostKey: async () => false, askSecret: async () => undefined };

/** A console with the lab in its inventory and an empty transfer history. */
async function openCore(home: string, lab: LabInfo): Promise<Core> {
  const core = new Core({ home, door: 'cli', asker });
  await addLabHosts(core.inventory, lab.hosts, lab.identityFile);
  await trustLabHostKeys((await core.ssh()).knownHosts, lab.knownHosts, lab.hosts);
  // tcp receivers accept only the source's address, and the caches see imgs by its iCBD-Net one.
  await core.call('replication.settings.set', { node: 'imgs', settings: { replicationAddress: ICBD_NET_IMGS } });
  return core;
}

async function main(): Promise<void> {
  const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-lab-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-home-'));
  const siteHome = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-site-'));
  process.env.ICBD_LAB_DIR = labDir;
  const cores: Core[] = [];
  const t0 = Date.now();
  const log = (m: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${m}`);
  try {
    log(`lab up in ${labDir} (3 caches)`);
    const lab = await labUp({ dir: labDir, caches: 3 });
    const core = await openCore(home, lab);
    cores.push(core);
    const caches = lab.hosts.filter((h) => h.role === 'cache');
    await prepareReplication(await core.ssh(), 'imgs', caches);
    await trustRootKey(await core.ssh(), 'imgs', caches);
    const addresses = new Map(caches.map((c) => [c.name, c.address]));
    const b = new BenchLab(core, addresses);
    const binding = await cryptoBindingAvailable();
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    if (!ONLY_SITE) {
      const main = await mainRows(b, log, binding, home);
      rows.push(...main.rows);
      ratios.push(...main.ratios);
    }

    // A second console, whose history knows nothing of the links: what auto learnt above of the
    // unshaped links would otherwise decide for the shaped ones.
    const siteCore = await openCore(siteHome, lab);
    cores.push(siteCore);
    const site = new BenchLab(siteCore, addresses, SITE_IMAGE);
    log(`site image: ${SITE_MIB} MiB (zeros, /usr binaries, random)`);
    await site.makeImage(SITE_MIB);
    const shaped = await siteRows({ lab: site, labDir, caches: CACHES, measure: (l, specs, bytes) => measure(l, specs, bytes, log), log });
    rows.push(...shaped.rows);
    ratios.push(...shaped.ratios);

    console.log(`\nReplication benchmark: ${ONLY_SITE ? '' : `${MIB} MiB image and `}${SITE_MIB} MiB site image (⅓ zeros, ⅓ /usr binaries, ⅓ random), medians of ${RUNS}, page cache dropped before each run`);
    console.log(`machine: ${os.cpus().length} CPUs, ${os.loadavg()[0]!.toFixed(1)} load; lab of imgs + 3 caches; ssh2 native crypto binding: ${binding ? 'available' : 'NOT available'}\n`);
    console.log(rowsTable(rows));
    console.log('');
    console.log(ratiosTable(ratios));
    const missed = ratios.filter((r) => met(r) === false);
    console.log(missed.length ? `\nGOALS MISSED: ${missed.map((r) => r.name).join('; ')}` : '\nEvery goal met.');
    log('done');
  } finally {
    for (const c of cores) await c.close();
    await labDown({ dir: labDir }).catch((err: unknown) => console.error(`lab down failed: ${String(err)}`));
    for (const d of [labDir, home, siteHome]) fs.rmSync(d, { recursive: true, force: true });
  }
}

/**
 * A push as BenchLab.app times it, in a child process that loads ssh2 without its native binding
 * (ssh2 loads it once per process), on a copy of the data directory (inventory, known hosts,
 * settings), so that the two cores share no file.
 */
async function pushInChildWithoutBinding(home: string, input: PushInput): Promise<number> {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-home-js-'));
  try {
    fs.cpSync(home, copy, { recursive: true });
    const args = ['--import', path.join(BENCH_DIR, 'no-ssh2-binding.mjs'), '--import', 'tsx', path.join(BENCH_DIR, 'push-without-binding.ts'), copy, JSON.stringify(input)];
    const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: 'utf8', timeout: 1_800_000, maxBuffer: 16 * 1024 * 1024 });
    return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

/** Issue 6's rows on the unshaped lab: the app's transports against the pipes typed by hand. */
async function mainRows(b: BenchLab, log: (m: string) => void, binding: boolean, home: string): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  log(`image: ${MIB} MiB (zeros, /usr binaries, random)`);
  await b.makeImage(MIB);
  const changed = await b.changeTwoPercent(MIB);
  const full = await b.streamBytes(1);
  const inc = await b.streamBytes(2, 1);
  log(`full stream ${full} B, incremental ${inc} B for ${changed} B changed`);

  const push = (p: Partial<PushInput>) => async () => (await b.app({ source: 'imgs', targets: ['cache01'], image: IMAGE, number: 1, ...p })).seconds;
  const pushWithoutBinding = (p: Partial<PushInput>) => () => pushInChildWithoutBinding(home, { source: 'imgs', targets: ['cache01'], image: IMAGE, number: 1, ...p });
  const fullRows: Spec[] = [
    { name: 'local: btrfs send | btrfs receive (imgs)', nodes: [], number: 1, run: () => b.local(1) },
    { name: 'raw: send | ssh -c aes128-gcm | receive', nodes: ['cache01'], number: 1, run: () => b.raw('cache01', 1, SAME_CIPHER), checksum: true },
    { name: 'raw: send | ssh (defaults) | receive', nodes: ['cache01'], number: 1, run: () => b.raw('cache01', 1, []) },
    { name: 'app direct, none', nodes: ['cache01'], number: 1, run: push({ compression: 'none' }), checksum: true },
    { name: 'app direct, none, without the meter', nodes: ['cache01'], number: 1, run: async () => (await b.app({ source: 'imgs', targets: ['cache01'], image: IMAGE, number: 1, compression: 'none' }, { meter: false })).seconds },
    { name: 'app direct, defaults (auto)', nodes: ['cache01'], number: 1, run: push({}) },
    { name: 'app direct fan-out ×3, defaults', nodes: CACHES, number: 1, run: push({ targets: CACHES }), checksum: true },
    { name: 'raw fan-out ×3: send | zstd | tee into 3 ssh', nodes: CACHES, number: 1, run: () => b.rawFanOut(CACHES, 1) },
    { name: 'app relay, none', nodes: ['cache01'], number: 1, run: push({ mode: 'relay', compression: 'none' }) },
    { name: 'app relay, defaults (auto)', nodes: ['cache01'], number: 1, run: push({ mode: 'relay' }), checksum: true },
    { name: 'app relay, none, ssh2 without its binding', nodes: ['cache01'], number: 1, run: pushWithoutBinding({ mode: 'relay', compression: 'none' }) },
    { name: 'app relay, defaults (auto), ssh2 without its binding', nodes: ['cache01'], number: 1, run: pushWithoutBinding({ mode: 'relay' }), checksum: true },
    { name: 'app tcp, none', nodes: ['cache01'], number: 1, run: push({ mode: 'tcp', compression: 'none' }), checksum: true },
    { name: 'app tcp, defaults (auto)', nodes: ['cache01'], number: 1, run: push({ mode: 'tcp' }) },
  ];
  // A console that has pushed to cache01 before, as in use: the rows with a codec of their own
  // know the link from the history (they do not probe), and stage only on a slow one.
  await b.reset(['cache01'], 1);
  log(`warm-up push to cache01 (untimed): ${(await push({})()).toFixed(2)} s`);
  const fullResults = await measure(b, fullRows, full, log);

  // The incremental rows need cache01 to hold snapshot 1 (received, so it can be the parent).
  await b.reset(CACHES, 1);
  await b.app({ source: 'imgs', targets: ['cache01'], image: IMAGE, number: 1, compression: 'none' });
  const incRows: Spec[] = [
    { name: 'raw incremental: send -p | ssh -c aes128-gcm | receive', nodes: ['cache01'], number: 2, run: () => b.raw('cache01', 2, SAME_CIPHER, 1) },
    {
      name: 'app incremental, defaults (auto)',
      nodes: ['cache01'],
      number: 2,
      run: async () => {
        const r = await b.app({ source: 'imgs', targets: ['cache01'], image: IMAGE, number: 2 });
        metered = r.records[0]!.bytes;
        return r.seconds;
      },
    },
  ];
  let metered = 0;
  const incResults = await measure(b, incRows, inc, log);
  if ((await b.sum('cache01', `${ROOT}/${IMAGE}/2`)) !== (await b.sum('imgs', `${ROOT}/${IMAGE}/2`))) throw new Error('the incremental copy differs from the source');

  const rows = [...fullResults, ...incResults];
  const at = (name: string) => rows.find((r) => r.name === name)!;
  const t = (name: string) => median(at(name).runs);
  const ratios: Ratio[] = [
    { name: 'direct (app, none) ÷ raw same cipher, MB/s', value: t('raw: send | ssh -c aes128-gcm | receive') / t('app direct, none'), goal: { op: '>=', value: 0.95 } },
    { name: 'direct (app defaults) ÷ raw ssh defaults, MB/s', value: t('raw: send | ssh (defaults) | receive') / t('app direct, defaults (auto)'), goal: { op: '>=', value: 1.15 } },
    {
      name: 'relay (app defaults) ÷ raw same cipher, MB/s',
      value: t('raw: send | ssh -c aes128-gcm | receive') / t('app relay, defaults (auto)'),
      goal: { op: '>=', value: 0.7 },
      note: `ssh2 native crypto binding ${binding ? 'available' : 'NOT available (no compiler when npm ci ran): this row is the one below'}; relay without compression: ${(t('raw: send | ssh -c aes128-gcm | receive') / t('app relay, none')).toFixed(3)}`,
    },
    {
      name: 'relay without ssh2 binding (app defaults) ÷ raw same cipher, MB/s',
      value: t('raw: send | ssh -c aes128-gcm | receive') / t('app relay, defaults (auto), ssh2 without its binding'),
      goal: null,
      note: `a machine where npm had no compiler: ssh2 encrypts in JavaScript (the binding hidden in a process of its own); without compression: ${(t('raw: send | ssh -c aes128-gcm | receive') / t('app relay, none, ssh2 without its binding')).toFixed(3)}`,
    },
    {
      name: 'incremental stream bytes ÷ changed bytes',
      value: inc / changed,
      goal: { op: '<=', value: 1.05 },
      note: `${inc} B stream (btrfs send -p | wc -c) for ${changed} B rewritten; the app's meter counted ${metered} B`,
    },
    { name: 'incremental push ÷ raw send -p pipe, time', value: t('app incremental, defaults (auto)') / t('raw incremental: send -p | ssh -c aes128-gcm | receive'), goal: { op: '<=', value: 1.2 } },
    {
      name: 'with monitor ÷ without, time',
      value: t('app direct, none') / t('app direct, none, without the meter'),
      goal: { op: '<=', value: 1.05 },
      note: 'the same plan run through the transfer service, once as planned (the sender\'s /proc I/O counters read once a second on imgs into rate/ETA updates) and once with the pipeline rebuilt without the meter (no progress at all)',
    },
    {
      name: 'fan-out ×3 ÷ push to 1, time',
      value: t('app direct fan-out ×3, defaults') / t('app direct, defaults (auto)'),
      goal: { op: '<=', value: 1.3 },
      note: `the same fan-out typed by hand takes ${(t('raw fan-out ×3: send | zstd | tee into 3 ssh') / t('app direct, defaults (auto)')).toFixed(3)}× the push to 1: in the lab every cache's sshd, zstd -d and btrfs receive run on the same ${os.cpus().length} CPUs and disk as imgs's, so this goal assumes caches on machines of their own`,
    },
    {
      name: 'fan-out ×3 (app) ÷ the same fan-out typed by hand, time',
      value: t('app direct fan-out ×3, defaults') / t('raw fan-out ×3: send | zstd | tee into 3 ssh'),
      goal: null,
      note: `the app's own cost in a fan-out; and ÷ three pushes one after the other: ${(t('app direct fan-out ×3, defaults') / (3 * t('app direct, defaults (auto)'))).toFixed(3)}`,
    },
    {
      name: 'tcp (app defaults) ÷ local pipe, MB/s',
      value: t('local: btrfs send | btrfs receive (imgs)') / t('app tcp, defaults (auto)'),
      goal: { op: '>=', value: 0.85 },
      note: `tcp without compression: ${(t('local: btrfs send | btrfs receive (imgs)') / t('app tcp, none')).toFixed(3)}`,
    },
  ];
  return { rows, ratios };
}

/** RUNS rounds over every row; the first run of a row is also checksummed (outside its time). */
async function measure(b: BenchLab, specs: readonly Spec[], bytes: number, log: (m: string) => void): Promise<Row[]> {
  const rows: Row[] = specs.map((s) => ({ name: s.name, runs: [], bytes, ...(s.note ? { note: s.note } : {}) }));
  for (let round = 0; round < RUNS; round++) {
    for (const [k, s] of specs.entries()) {
      await b.reset(s.nodes, s.number);
      const seconds = await s.run();
      rows[k]!.runs.push(seconds);
      log(`${s.name}: ${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(0)} MB/s)`);
      if (round === 0 && s.checksum) {
        const want = await b.sum('imgs', `${ROOT}/${IMAGE}/${s.number}`);
        for (const n of s.nodes) if ((await b.sum(n, `${ROOT}/${IMAGE}/${s.number}`)) !== want) throw new Error(`${s.name}: ${n}'s copy differs from the source`);
      }
    }
  }
  for (const r of rows) log(`${r.name}: median ${median(r.runs).toFixed(2)} s, ${mbps(r).toFixed(0)} MB/s`);
  return rows;
}

await main();
