/**
 * Issue 13's rows: replication over the lab's shaped site links (lab link HOST RATE), on an image
 * of the same make-up sized by time (100 Mbit/s × ≈ 15 s for the plain pipe). Rows that need a
 * feature this build lacks (resume, a rate limit) say "not available" instead of a figure.
 */
import { labLink, labStart, labStop } from '../../electron/core/lab/index.ts';
import { requests } from '../../shared/contract.ts';
import { pushInput, type PushInput } from '../../shared/transfers.ts';
import type { BenchLab } from './bench-lab.ts';
import { median, type Ratio, type Row } from './bench-table.ts';

export const SITE_IMAGE = 'site';
const SITE_RATE = '100mbit';
/** What i13a's --limit-rate sets on a push (bytes per second). */
const RATE_FIELD = 'limitRate';
const CAP = 20e6;

interface SiteSpec {
  name: string;
  nodes: readonly string[];
  run(): Promise<number>;
}

export interface SiteDeps {
  lab: BenchLab;
  labDir: string;
  caches: readonly string[];
  /** RUNS rounds over the rows, reset and page cache dropped before each (replication.bench.ts). */
  measure(lab: BenchLab, specs: readonly (SiteSpec & { number: number })[], bytes: number): Promise<Row[]>;
  log(m: string): void;
}

const shape = async (dir: string, nodes: readonly string[], rate: string) => {
  for (const n of nodes) await labLink(n, rate, { dir });
};

export async function siteRows(d: SiteDeps): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const { lab, caches } = d;
  const [one] = caches;
  const stream = await lab.streamBytes(1);
  const push = (p: Partial<PushInput>) => async () => (await lab.app({ source: 'imgs', targets: [one!], image: SITE_IMAGE, number: 1, ...p })).seconds;

  await shape(d.labDir, caches, SITE_RATE);
  let rows: Row[];
  try {
    d.log(`site rows: ${caches.join(', ')} at ${SITE_RATE}, stream ${stream} B`);
    rows = await d.measure(
      lab,
      [
        { name: `${SITE_RATE}: raw send | ssh (defaults) | receive`, nodes: [one!], number: 1, run: () => lab.raw(one!, 1, []) },
        { name: `${SITE_RATE}: app direct, defaults (auto)`, nodes: [one!], number: 1, run: push({}) },
        { name: `${SITE_RATE} each: app fan-out ×${caches.length}, defaults`, nodes: caches, number: 1, run: push({ targets: [...caches] }) },
      ],
      stream,
    );
  } finally {
    await shape(d.labDir, caches, 'off');
  }
  const t = (name: string) => median(rows.find((r) => r.name.startsWith(name))!.runs);
  const ratios: Ratio[] = [
    {
      name: `${SITE_RATE} link: app defaults ÷ raw ssh defaults, MB/s`,
      value: t(`${SITE_RATE}: raw`) / t(`${SITE_RATE}: app direct`),
      goal: { op: '>=', value: 1.5 },
      note: 'auto measures the link (a probe of up to 2 s) and the compressor, and compresses where the link is the bottleneck',
    },
    {
      name: `fan-out ×${caches.length} on ${SITE_RATE} links ÷ push to 1, time`,
      value: t(`${SITE_RATE} each`) / t(`${SITE_RATE}: app direct`),
      goal: { op: '<=', value: 1.3 },
      note: 'each cache on a link of its own: the stream is read and compressed once',
    },
    await resumeRatio(d, stream),
    await rateLimitRatio(d, stream),
  ];
  return { rows, ratios };
}

const RESUME_NAME = `push whose receiver restarts at ½ (${SITE_RATE}), resumed: bytes on the wire ÷ stream`;

/**
 * The receiving node powered off and on at about half of a push over its shaped link; the push must resume
 * by itself. Wire bytes are imgs's iCBD-Net transmit counter over the push (ssh framing included).
 */
async function resumeRatio(d: SiteDeps, stream: number): Promise<Ratio> {
  if (!('transfers.resume' in requests)) return { name: RESUME_NAME, value: null, goal: { op: '<=', value: 1.1 }, note: 'not available: this build has no resumable push (issue 13 item 2, branch i13b)' };
  const one = d.caches[0]!;
  await d.lab.reset([one], 1);
  await shape(d.labDir, [one], SITE_RATE);
  try {
    const tx = async () => Number((await d.lab.sh('imgs', 'cat /sys/class/net/eth1/statistics/tx_bytes')).trim());
    const before = await tx();
    let restarted: Promise<void> | undefined;
    await d.lab.app({ source: 'imgs', targets: [one], image: SITE_IMAGE, number: 1, compression: 'none' }, {
      during: (r) => {
        if (restarted || r.fraction === null || r.fraction < 0.5) return;
        d.log(`restarting ${one} at ${Math.round(r.fraction * 100)} %`);
        restarted = (async () => {
          await labStop(one, { dir: d.labDir });
          await labStart(one, { dir: d.labDir });
          // The repository is mounted by hand on the lab (replication-fixture.ts), not from fstab.
          await d.lab.sh(one, 'mountpoint -q /var/lib/icbd || mount -o subvol=Lib/icbd /dev/vdb /var/lib/icbd');
        })();
      },
    });
    await restarted;
    if (!restarted) throw new Error('the push ended before half: nothing was restarted');
    return { name: RESUME_NAME, value: ((await tx()) - before) / stream, goal: { op: '<=', value: 1.1 }, note: `${one} powered off and on at half; compression none, so the wire carries the stream itself` };
  } catch (err) {
    return { name: RESUME_NAME, value: null, goal: { op: '<=', value: 1.1 }, note: `not available: ${(err as Error).message}` };
  } finally {
    await shape(d.labDir, [one], 'off');
  }
}

const RATE_NAME = `rate-limited push (${CAP / 1e6} MB/s cap, unshaped link): achieved ÷ cap`;

async function rateLimitRatio(d: SiteDeps, stream: number): Promise<Ratio> {
  if (!(RATE_FIELD in pushInput.shape)) return { name: RATE_NAME, value: null, goal: { op: 'in', min: 0.9, max: 1.05 }, note: 'not available: this build has no rate limit (issue 13 item 1, branch i13a)' };
  const one = d.caches[0]!;
  try {
    await d.lab.reset([one], 1);
    const input = { source: 'imgs', targets: [one], image: SITE_IMAGE, number: 1, compression: 'none', [RATE_FIELD]: CAP } as PushInput;
    const { seconds } = await d.lab.app(input);
    return { name: RATE_NAME, value: stream / seconds / CAP, goal: { op: 'in', min: 0.9, max: 1.05 }, note: 'compression none: the stream is what the cap meters' };
  } catch (err) {
    return { name: RATE_NAME, value: null, goal: { op: 'in', min: 0.9, max: 1.05 }, note: `not available: ${(err as Error).message}` };
  }
}
