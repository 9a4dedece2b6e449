import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import { fileName, localFilePath } from '../../../../shared/names.ts';
import { transferSubject, uploadInput, type UploadRecord } from '../../../../shared/transfers.ts';
import { localFile, parseTargetFacts, stagingDir, uploadDir, uploadRefusal, type TargetFacts, type UploadTarget } from '../../../../electron/core/transfers/upload.ts';

describe('the name of an uploaded file on the node', () => {
  it('takes one path component, spaces, quotes and shell characters included (they are quoted, never run)', () => {
    for (const ok of ['win10.qcow2', 'CentOS-7-x86_64-DVD-2009.iso', 'my disk (copy).img', "it's.img", 'a;b$(c)`d`.img', 'ünïcödé.iso', 'x'])
      expect(fileName.safeParse(ok).success, ok).toBe(true);
  });
  it.each([
    ['', /required/],
    ['a/b', /"\/"/],
    ['../etc/passwd', /"\/"/],
    ['..', /"\.\."/],
    ['disk..img', /"\.\."/],
    ['a\nb', /control characters/],
    ['tab\there', /control characters/],
    ['esc\u001b[2J', /control characters/],
    ['del\u007f', /control characters/],
    ['c1\u009b', /control characters/],
    ['.hidden', /start with/],
    ['.icbd-upload-x', /start with/],
    ['-rf', /start with/],
    ['é'.repeat(128), /255 bytes/],
  ])('refuses %j with a message saying why', (name, why) => {
    const r = fileName.safeParse(name);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(why);
  });
  it('counts the 255-byte limit in UTF-8, as the filesystem does', () => {
    expect(fileName.safeParse('a'.repeat(255)).success).toBe(true);
    expect(fileName.safeParse('a'.repeat(256)).success).toBe(false);
    expect(fileName.safeParse(`${'é'.repeat(127)}a`).success).toBe(true);
  });
});

describe('the upload request', () => {
  const base = { node: 'imgs', file: '/home/op/win10.qcow2', into: { image: 'win10' } };
  it('defaults overwrite to false and takes an image or the iso subvolume', () => {
    expect(uploadInput.parse(base)).toEqual({ ...base, overwrite: false });
    expect(uploadInput.parse({ ...base, into: { iso: true }, name: 'x.iso', overwrite: true }).into).toEqual({ iso: true });
  });
  it.each([
    [{ ...base, file: 'win10.qcow2' }, /absolute path/],
    [{ ...base, file: '~/win10.qcow2' }, /absolute path/],
    [{ ...base, file: '/tmp/a\nb' }, /line breaks/],
    [{ ...base, into: { image: '../etc' } }, /image name|cannot contain/],
    [{ ...base, into: { iso: false } }, /./],
    [{ ...base, into: { image: 'win10', iso: true } }, /./],
    [{ ...base, name: 'a/b' }, /"\/"/],
    [{ ...base, node: 'Imgs;reboot' }, /host name/],
    [{ ...base, path: '/etc' }, /./],
  ])('refuses %j', (input, why) => {
    const r = uploadInput.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join(' ')).toMatch(why);
  });
  it('accepts a Windows path, where the core may run', () => {
    expect(localFilePath.safeParse('C:\\Users\\op\\win10.qcow2').success).toBe(true);
    expect(localFilePath.safeParse('\\\\server\\share\\a.iso').success).toBe(true);
  });
});

describe('where an upload goes', () => {
  const settings = { workRoot: '/var/lib/icbd/shared-vms' };
  it("an image's working subvolume, which the next snapshot carries", () => {
    expect(uploadDir('imgs', 'imgs', settings, { image: 'win10' })).toBe('/var/lib/icbd/shared-vms/win10');
  });
  it("the iso subvolume of the guide's layout, on imgs and caches only", () => {
    expect(uploadDir('imgs', 'imgs', settings, { iso: true })).toBe('/var/lib/icbd/iso');
    expect(uploadDir('cache01', 'cache', settings, { iso: true })).toBe('/var/lib/icbd/iso');
    expect(() => uploadDir('rw', 'rw', settings, { iso: true })).toThrow(/no iso subvolume.*imgs or a cache/);
  });
  it('stages in a hidden directory of its own beside the target (same subvolume: a rename, not a copy)', () => {
    expect(stagingDir('/var/lib/icbd/iso', 'abc-123')).toBe('/var/lib/icbd/iso/.icbd-upload-abc-123');
  });
  it('reads as what moves, where', () => {
    const r = { operation: 'upload', name: 'netinst.iso', into: { iso: true } } as UploadRecord;
    expect(transferSubject(r)).toBe('netinst.iso into iso');
    expect(transferSubject({ ...r, name: 'disk.img', into: { image: 'win10' } })).toBe('disk.img into win10');
  });
});

describe('refusing before anything is sent', () => {
  const t: UploadTarget = { node: 'imgs', dir: '/var/lib/icbd/shared-vms/win10', name: 'disk.img', into: { image: 'win10' }, overwrite: false };
  const facts = (over: Partial<TargetFacts> = {}): TargetFacts => ({ dir: true, target: 'none', availBytes: 10 * 2 ** 30, ...over });

  it("reads the node's answer; df's KiB become bytes", () => {
    expect(parseTargetFacts('dir=ok\ntarget=file\navail=2048\n')).toEqual({ dir: true, target: 'file', availBytes: 2 * 2 ** 20 });
    expect(parseTargetFacts('dir=missing\n')).toEqual({ dir: false, target: 'none', availBytes: null });
    expect(parseTargetFacts('dir=ok\ntarget=none\navail=1.5e+09\n').availBytes).toBeNull();
  });
  it('lets a new file that fits through', () => {
    expect(uploadRefusal(facts(), t, 2 ** 30)).toBeUndefined();
    expect(uploadRefusal(facts({ availBytes: null }), t, 2 ** 30)).toBeUndefined();
  });
  it('a missing working subvolume: add the image first', () => {
    const e = uploadRefusal(facts({ dir: false }), t, 1)!;
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/no working subvolume for win10.*icbd snapshot add-image imgs win10/);
    expect(uploadRefusal(facts({ dir: false }), { ...t, into: { iso: true }, dir: '/var/lib/icbd/iso' }, 1)!.message).toMatch(/install its role/);
  });
  it('an existing file without overwrite; never a directory or a link, even with it', () => {
    expect(uploadRefusal(facts({ target: 'file' }), t, 1)).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already exists.*overwrite/) });
    expect(uploadRefusal(facts({ target: 'file' }), { ...t, overwrite: true }, 1)).toBeUndefined();
    expect(uploadRefusal(facts({ target: 'other' }), { ...t, overwrite: true }, 1)).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/not a regular file/) });
  });
  it('too little space, counting the old file as still there while overwriting', () => {
    const e = uploadRefusal(facts({ availBytes: 100 * 2 ** 20 }), t, 200 * 2 ** 20)!;
    expect(e.message).toBe('imgs has 100 MiB free in /var/lib/icbd/shared-vms/win10, and the file is 200 MiB: free space there first.');
    expect(uploadRefusal(facts({ availBytes: 100 * 2 ** 20, target: 'file' }), { ...t, overwrite: true }, 200 * 2 ** 20)!.message).toMatch(/both must fit/);
    expect(uploadRefusal(facts({ availBytes: 200 * 2 ** 20 }), t, 200 * 2 ** 20)).toBeUndefined();
  });
});

describe('the local file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'icbd-upload-'));
    await writeFile(join(dir, 'a.iso'), Buffer.alloc(1234));
    await mkdir(join(dir, 'sub'));
    await symlink(join(dir, 'a.iso'), join(dir, 'link.iso'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a regular file (through a link): its size', async () => {
    expect(await localFile(join(dir, 'a.iso'))).toMatchObject({ size: 1234 });
    expect(await localFile(join(dir, 'link.iso'))).toMatchObject({ size: 1234 });
  });
  it('missing, or a directory: refused, saying where it was looked for', async () => {
    await expect(localFile(join(dir, 'none.iso'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/machine running the console's core/) });
    await expect(localFile(join(dir, 'sub'))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/is a directory/) });
    await expect(localFile('/dev/null')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/not a regular file/) });
  });
});
