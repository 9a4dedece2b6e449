/**
 * Uploads (issue 6's "pushes and uploads") against the demo lab: a file of this machine, the
 * operator's, into an image's working subvolume on imgs (the next snapshot carries it) or a
 * node's ISO subvolume, through the core as the window and the CLI run it; and every way an
 * upload can end badly (cancel, a full disk, a cut link, a taken or hostile name) leaves nothing
 * on the node. The lab lives in its own directory, so this file can run beside any other lab.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import type { TransferRecord, UploadInput } from '../../shared/transfers.ts';
import { tempDirs } from '../temp-dirs.ts';
import { cutWhileMoving, onceMoving, replicationLab, untilEnded } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('upload', (core, dir) => replicationLab(core, dir, { caches: 1, keys: false }), { timeout: 900_000 });
const { icbd, sh } = lab;
const dirs = tempDirs('upload', ['files']);
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';
const ISO = '/var/lib/icbd/iso';

/** A file of `mb` MiB of random data (no codec or SSH compression shrinks it) on this machine. */
function localData(name: string, mb: number): string {
  const p = path.join(dirs.files, name);
  execFileSync('sh', ['-c', 'head -c "$2"M /dev/urandom > "$1"', 'sh', p, String(mb)]);
  return p;
}

async function localSum(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sum = async (node: string, p: string) => (await sh(node, 'sha256sum "$1" | cut -d" " -f1', p)).trim();
const exists = async (node: string, p: string) => (await sh(node, '[ -e "$1" ] && echo yes || echo no', p)).trim() === 'yes';
/** Everything in a directory, hidden entries too: a staging directory left behind shows here. */
const entries = async (node: string, dir: string) => (await sh(node, 'ls -A "$1"', dir)).split('\n').filter(Boolean).sort();
/** Processes holding a file of an upload's staging directory open (a writer left running). */
const holders = async (node: string) => (await sh(node, "find /proc/[0-9]*/fd -maxdepth 1 -lname '*/.icbd-upload-*' 2>/dev/null | wc -l")).trim();

/** Every transfer.update of the upload until it ends; `during` sees each update of it. */
async function upload(input: UploadInput, during?: (r: TransferRecord) => Promise<void>): Promise<{ record: TransferRecord; updates: TransferRecord[] }> {
  const { records, updates } = await untilEnded(lab.core, async () => [(await lab.core.call('transfers.upload', input)).id], during);
  return { record: records[0]!, updates };
}

async function refusal(input: UploadInput): Promise<AppError> {
  const err = await lab.core.call('transfers.upload', input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

async function audit(host: string, action: string) {
  return (await lab.core.call('audit.list', { host })).filter((e) => e.action === action).map((e) => e.result);
}

let big: string;

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('uploads on the lab', () => {
  beforeAll(async () => {
    // The installer makes the guide's iso subvolume; the replication fixture stands in for it without one.
    for (const n of ['imgs', 'cache01']) await sh(n, '[ -d "$1" ] || btrfs -q subvolume create "$1"', ISO);
    big = localData('big.img', 1500);
  });

  it('uploads a disk into an image; the next snapshot carries it, byte for byte; audited', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'win10' });
    const disk = localData('win10.qcow2', 96);
    const t0 = Date.now();
    const { record, updates } = await upload({ node: 'imgs', file: disk, into: { image: 'win10' } });
    expect(record).toMatchObject({
      operation: 'upload',
      state: 'done',
      name: 'win10.qcow2',
      dir: `${WORK}/win10`,
      targets: [{ node: 'imgs', state: 'done' }],
      bytes: 96 * 2 ** 20,
      totalBytes: 96 * 2 ** 20,
      fraction: 1,
    });
    expect(record.source).toBe(`the operator's machine (${os.hostname()})`);
    expect(updates.map((u) => u.state)).toEqual(expect.arrayContaining(['queued', 'running', 'verifying', 'done']));
    // Progress crosses the process boundary about once a second, never per 256 KiB chunk (384 here).
    expect(updates.length).toBeLessThanOrEqual((Date.now() - t0) / 1000 + 8);
    expect(await entries('imgs', `${WORK}/win10`)).toEqual(['win10.qcow2']);
    // The history (what the CLI and a restarted window read) ends where the events did.
    expect((await lab.core.call('transfers.list', {})).find((r) => r.id === record.id)).toMatchObject({ state: 'done', fraction: 1 });

    const snap = await lab.core.call('replication.snapshot', { image: 'win10' });
    expect(snap.number).toBe(1);
    expect(await sum('imgs', `${ROOT}/win10/1/win10.qcow2`)).toBe(await localSum(disk));
    await expect.poll(() => audit('imgs', 'transfers.upload')).toEqual(['ok']);
    const log = await lab.core.call('transfers.log', { id: record.id });
    expect(log.join('\n')).toMatch(/as sent/);
  });

  it('uploads an ISO into the iso subvolume of a cache, through its jump host', async () => {
    const iso = localData('debian-12-netinst.iso', 40);
    const { record } = await upload({ node: 'cache01', file: iso, into: { iso: true }, name: 'netinst.iso' });
    expect(record).toMatchObject({ state: 'done', dir: ISO, name: 'netinst.iso', into: { iso: true } });
    expect(await sum('cache01', `${ISO}/netinst.iso`)).toBe(await localSum(iso));
    expect(await entries('cache01', ISO)).toEqual(['netinst.iso']);
  });

  it('an audit log that cannot be written fails nothing the upload did, and says so in its log and on its record', async () => {
    // A directory where the log should be: every append fails (EISDIR), as for root too.
    const log = path.join(lab.home, 'audit.jsonl');
    const kept = `${log}.kept`;
    if (fs.existsSync(log)) fs.renameSync(log, kept);
    fs.mkdirSync(log);
    try {
      const { record } = await upload({ node: 'cache01', file: localData('unaudited.iso', 1), into: { iso: true } });
      expect(record.state).toBe('done');
      await expect
        .poll(async () => (await lab.core.call('transfers.list', {})).find((r) => r.id === record.id)?.auditError)
        .toMatch(/^The audit log could not record transfers\.upload on cache01 \(ok\): .*EISDIR.*The change was made/);
      expect((await lab.core.call('transfers.log', { id: record.id })).join('\n')).toContain('The audit log could not record transfers.upload on cache01');
    } finally {
      fs.rmdirSync(log);
      if (fs.existsSync(kept)) fs.renameSync(kept, log);
      await sh('cache01', 'rm -f "$1"', `${ISO}/unaudited.iso`);
    }
  });

  it('refuses an existing name without overwrite, before sending; replaces it with overwrite', async () => {
    const before = await sum('cache01', `${ISO}/netinst.iso`);
    const other = localData('other.iso', 8);
    const err = await refusal({ node: 'cache01', file: other, into: { iso: true }, name: 'netinst.iso' });
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toBe(`${ISO}/netinst.iso already exists on cache01: choose another name, or overwrite it.`);
    expect(await sum('cache01', `${ISO}/netinst.iso`)).toBe(before);
    expect((await lab.core.call('transfers.list', {})).filter((r) => r.operation === 'upload' && r.file === other)).toEqual([]);

    const { record } = await upload({ node: 'cache01', file: other, into: { iso: true }, name: 'netinst.iso', overwrite: true });
    expect(record.state).toBe('done');
    expect(await sum('cache01', `${ISO}/netinst.iso`)).toBe(await localSum(other));
    expect(await entries('cache01', ISO)).toEqual(['netinst.iso']);
  });

  it('refuses what is not there: a missing local file, a directory, an image without a working subvolume', async () => {
    expect(await refusal({ node: 'imgs', file: path.join(dirs.files, 'nope.img'), into: { image: 'win10' } })).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no file .*nope\.img/) });
    expect(await refusal({ node: 'imgs', file: dirs.files, into: { image: 'win10' } })).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/is a directory/) });
    const err = await refusal({ node: 'imgs', file: path.join(dirs.files, 'other.iso'), into: { image: 'ghost' } });
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no working subvolume for ghost .*add-image imgs ghost/) });
    expect(await exists('imgs', `${WORK}/ghost`)).toBe(false);
  });

  it('refuses hostile names with a clear message; shell characters in an allowed name are only characters', async () => {
    const file = path.join(dirs.files, 'other.iso');
    for (const name of ['../../etc/cron.d/x', 'a/b', '..', 'a\nb', '.hidden', '-rf', 'esc\u001b[2J']) {
      const err = await refusal({ node: 'imgs', file, into: { image: 'win10' }, name });
      expect(err.code, name).toBe('INVALID_INPUT');
      expect(err.message, name).toMatch(/^name: A file name (cannot|has)/);
    }
    for (const image of ['../etc', 'a b', '$(touch /tmp/pwned)'])
      expect((await refusal({ node: 'imgs', file, into: { image } })).code, image).toBe('INVALID_INPUT');
    // A local file whose own name cannot be used on the node is refused when no name is given.
    const badLocal = path.join(dirs.files, '.hidden.img');
    fs.writeFileSync(badLocal, 'x');
    expect((await refusal({ node: 'imgs', file: badLocal, into: { image: 'win10' } })).message).toBe(
      'The file\'s own name ".hidden.img" cannot be used on the node (A file name cannot start with "." or "-"): give it another name.',
    );

    // No "/" in it, so it is a valid name: it must arrive as these very characters, and run nothing.
    const odd = `it's a "disk" $(touch pwned); \`touch pwned\` | touch pwned & ünï.img`;
    const { record } = await upload({ node: 'imgs', file, into: { image: 'win10' }, name: odd });
    expect(record.state).toBe('done');
    expect(await entries('imgs', `${WORK}/win10`)).toEqual([odd, 'win10.qcow2'].sort());
    for (const dir of ['/root', '/', `${WORK}/win10`, '/tmp']) expect(await exists('imgs', `${dir}/pwned`), dir).toBe(false);
    await sh('imgs', 'rm -f -- "$1"', `${WORK}/win10/${odd}`);
  });

  it('refuses to snapshot an image while a file is being uploaded into it', async () => {
    const snapshotDuring = onceMoving(async (u) => {
      const err = await lab.core.call('replication.snapshot', { image: 'win10' }).then(
        () => undefined,
        (e: unknown) => e as AppError,
      );
      expect(err?.code).toBe('CONFLICT');
      expect(err?.message).toBe(`big.img is still being uploaded into win10 on imgs (transfer ${u.id.slice(0, 8)}): snapshot it once the upload is done, or cancel the upload.`);
      await lab.core.call('transfers.cancel', { id: u.id });
    });
    const { record } = await upload({ node: 'imgs', file: big, into: { image: 'win10' } }, snapshotDuring.during);
    expect(snapshotDuring.acted).toBe(true);
    expect(record.state).toBe('cancelled');
    expect(await entries('imgs', `${WORK}/win10`)).toEqual(['win10.qcow2']);
  });

  it('cancel mid-upload: nothing left on the node, no writer left running; a retry succeeds', async () => {
    const cancel = onceMoving(async (u) => {
      expect(u.fraction).toBeGreaterThan(0);
      expect(u.fraction).toBeLessThan(1);
      expect(await lab.core.call('transfers.cancel', { id: u.id })).toEqual({ cancelled: true });
    });
    const { record } = await upload({ node: 'cache01', file: big, into: { iso: true } }, cancel.during);
    expect(cancel.acted).toBe(true);
    expect(record).toMatchObject({ state: 'cancelled', targets: [{ node: 'cache01', state: 'failed' }] });
    expect(record.error!.message).toMatch(/^Cancelled; the partial upload was removed from cache01\.$/);
    expect(record.bytes).toBeLessThan(1500 * 2 ** 20);
    expect(await entries('cache01', ISO)).toEqual(['netinst.iso']);
    expect(await holders('cache01')).toBe('0');
    await expect.poll(() => audit('cache01', 'transfers.upload.cleanup')).toEqual(['ok']);
    await expect.poll(async () => (await audit('cache01', 'transfers.upload'))[0]).toBe('cancelled');

    const retry = await upload({ node: 'cache01', file: big, into: { iso: true } });
    expect(retry.record.state).toBe('done');
    expect(await sum('cache01', `${ISO}/big.img`)).toBe(await localSum(big));
    await sh('cache01', 'rm -f -- "$1"', `${ISO}/big.img`);
  });

  it('a full disk: refused before sending when the file cannot fit; a disk filling up mid-upload fails it cleanly', async () => {
    const free = async () => Number((await sh('imgs', 'df --output=avail -B1 "$1" | tail -1', ISO)).trim());
    await sh('imgs', 'fallocate -l $(($2 - 100*1024*1024)) "$1/filler" && sync', '/var/lib/icbd', String(await free()));
    const err = await refusal({ node: 'imgs', file: big, into: { iso: true } });
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toMatch(/^imgs has \d+(\.\d+)? MiB free in \/var\/lib\/icbd\/iso, and the file is 1\.46 GiB: free space there first\.$/);
    expect(await entries('imgs', ISO)).toEqual([]);
    await sh('imgs', 'rm -f "$1/filler" && sync', '/var/lib/icbd');

    // Room for the file when it starts; then something else takes the space while it is sent.
    await sh('imgs', 'fallocate -l $(($2 - 1700*1024*1024)) "$1/filler" && sync', '/var/lib/icbd', String(await free()));
    // Most of it at once, then zeros to the very end: the upload keeps writing meanwhile.
    const fill = onceMoving(async () => {
      await sh('imgs', 'fallocate -l $(($(df --output=avail -B1 "$1" | tail -1) - 256*1024*1024)) "$1/filler2"; dd if=/dev/zero of="$1/filler3" bs=1M 2>/dev/null; sync; true', '/var/lib/icbd');
    });
    const { record } = await upload({ node: 'imgs', file: big, into: { iso: true } }, fill.during);
    expect(fill.acted).toBe(true);
    expect(record.state).toBe('failed');
    expect(record.error!.message).toMatch(/No space left on device.*; the partial upload was removed from imgs\.$/s);
    expect(await entries('imgs', ISO)).toEqual([]);
    expect(await holders('imgs')).toBe('0');
    await sh('imgs', 'rm -f "$1/filler" "$1/filler2" "$1/filler3" && sync', '/var/lib/icbd');
  });

  it('a link cut mid-upload fails it; once the node is back nothing of it is left', async () => {
    const link = cutWhileMoving('cache01', lab.dir);
    const { record } = await upload({ node: 'cache01', file: big, into: { iso: true } }, link.during);
    expect(await link.healed()).toBe(true);
    expect(record.state).toBe('failed');
    expect(record.error!.message).toMatch(/cache01/);
    expect(record.error!.message).toMatch(/the partial upload was removed from cache01\.$/);
    expect(await entries('cache01', ISO)).toEqual(['netinst.iso']);
    expect(await holders('cache01')).toBe('0');
  });

  it('the CLI uploads with the same checks, and lists uploads beside pushes', async () => {
    const file = localData('cli.img', 24);
    const first = await icbd('upload', file, 'imgs:win10', '--name', 'cli disk.img', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ operation: 'upload', state: 'done', name: 'cli disk.img', bytes: 24 * 2 ** 20 });
    expect(await sum('imgs', `${WORK}/win10/cli disk.img`)).toBe(await localSum(file));

    const again = await icbd('upload', file, 'imgs:win10', '--name', 'cli disk.img');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists on imgs: choose another name, or overwrite it/);
    const replaced = await icbd('upload', file, 'imgs:win10', '--name', 'cli disk.img', '--overwrite');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/cli disk\.img into win10 done on imgs\./);

    const hostile = await icbd('upload', file, 'imgs:win10', '--name', '../x');
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toMatch(/cannot contain "\/"/);

    const list = await icbd('transfers');
    expect(list.stdout).toMatch(/done\s+cli disk\.img into win10\s+the operator's machine \(.+\)\s+imgs\s+upload/);
    expect(list.stdout).toMatch(/cancelled\s+big\.img into iso/);
  });
});
