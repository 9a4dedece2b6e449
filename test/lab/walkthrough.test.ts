/**
 * The README's lab walk-through, command for command through the CLI on one data directory, as a
 * new user types it: the demo lab with cache01 behind a 100 Mbit/s link, its selftest measuring
 * that link, imgs and cache01 installed with packages from the lab's mirror, an image uploaded and
 * snapshotted on imgs, and the snapshot pushed to cache01 over the shaped link.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labStatus } from '../../electron/core/lab/index.ts';
import type { TransferRecord } from '../../shared/transfers.ts';
import { labSession } from './session.ts';

const execFileP = promisify(execFile);

// `npm run lab -- up --link cache01=100mbit`, on the session's data directory and lab directory
const lab = labSession(
  'walkthrough',
  async (core, dir) => {
    const { home } = await core.call('app.info', {});
    await execFileP('node', ['electron/icbd.mjs', '--home', home, 'lab', 'up', '--link', 'cache01=100mbit'], { env: { ...process.env, ICBD_LAB_DIR: dir }, timeout: 600_000 });
    return (await labStatus({ dir }))!;
  },
  { timeout: 900_000 },
);

async function icbd(...args: string[]): Promise<string> {
  const r = await lab.icbd(...args);
  if (r.code !== 0) throw new Error(`icbd ${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

const LINK_MBIT = 100;
const IMAGE_BYTES = 200 * 1024 * 1024;

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')("the README's lab walk-through", { timeout: 900_000 }, () => {
  it('lab status shows cache01 behind its 100mbit link, and the mirror', async () => {
    const status = await icbd('lab', 'status');
    expect(status).toMatch(/^cache01\s+cache\s+10\.213\.2\.101\s+imgs\s+running\s+100mbit$/m);
    expect(status).toMatch(/^imgs\s+imgs\s+\S+\s+-\s+running\s+unshaped$/m);
    expect(status).toMatch(/^package mirror: http:\/\/10\.213\.\d+\.1:3143\//m);
  });

  it('lab selftest measures the shaped link with btrfs send | ssh | btrfs receive, within 10 %', async () => {
    const out = await icbd('lab', 'selftest');
    const line = out.split('\n').find((l) => l.startsWith('a 100mbit link to cache01'));
    console.log(line?.replace(/\s{2,}/g, '  '));
    expect(line).toMatch(/\sok\s.*MB in [\d.]+ s = [\d.]+ Mbit\/s \([+-]\d+\.\d %/);
    expect(out).not.toMatch(/FAILED/);
  });

  it('installs imgs, then cache01, with their packages from the mirror', async () => {
    for (const [host, role] of [['imgs', 'imgs'], ['cache01', 'cache']]) {
      const t0 = Date.now();
      const out = await icbd('install', host!, '--role', role!, '--yes', '--confirm-disk', '/dev/vdb', '--no-nfs');
      expect(out).toContain(`${host} is installed as ${role} and verified: a check plans nothing.`);
      console.log(`install ${host}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  });

  it('pushes a snapshot of an uploaded image to cache01 at the link rate', async () => {
    const image = path.join(lab.home, 'win10.img');
    await execFileP('sh', ['-c', `head -c ${IMAGE_BYTES} /dev/urandom > "$1"`, 'sh', image]);
    await icbd('snapshot', 'add-image', 'imgs', 'win10');
    await icbd('upload', image, 'imgs:win10');
    expect(await icbd('snapshot', 'create', 'win10')).toMatch(/^Created win10@1 /);
    expect(await icbd('push', 'imgs:win10@1', '--to', 'cache01', '--setup-keys')).toMatch(/win10@1 .*done on cache01\./);
    const push = (JSON.parse(await icbd('transfers', '--json')) as TransferRecord[]).find((r) => r.operation === 'push' && r.state === 'done')!;
    const mbit = (push.bytes * 8) / ((push.endedAt! - push.startedAt!) / 1000) / 1e6;
    console.log(`push win10@1 → cache01: ${(push.bytes / 1e6).toFixed(1)} MB at ${mbit.toFixed(1)} Mbit/s over the ${LINK_MBIT}mbit link`);
    expect(mbit).toBeLessThan(LINK_MBIT * 1.05);
    expect(mbit).toBeGreaterThan(LINK_MBIT * 0.6);
    expect(await icbd('snapshots', 'cache01')).toMatch(/win10/);
  });
});
