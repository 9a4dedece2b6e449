import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { electronBinary, hasDisplay, installElectron, shortReason } from '../../../electron/main/electron-binary.ts';

/** A stand-in for node_modules/electron: path.txt, dist/ and an install.js that does what it is told. */
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icbd-electron-pkg-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function installBinary(root = dir) {
  await mkdir(join(root, 'dist'), { recursive: true });
  await writeFile(join(root, 'dist', 'electron'), '#!/bin/sh\n');
  await chmod(join(root, 'dist', 'electron'), 0o755);
  await writeFile(join(root, 'path.txt'), 'electron');
}

describe('electronBinary', () => {
  it('is undefined until path.txt names an executable that exists', async () => {
    expect(electronBinary(dir, {})).toBeUndefined();
    await writeFile(join(dir, 'path.txt'), 'electron');
    expect(electronBinary(dir, {})).toBeUndefined();
    await installBinary();
    expect(electronBinary(dir, {})).toBe(join(dir, 'dist', 'electron'));
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH as the electron package does', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'electron'), '');
    expect(electronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: elsewhere })).toBe(join(elsewhere, 'electron'));
  });
});

describe('installElectron', () => {
  it("succeeds when the package's installer puts the binary in place", async () => {
    await writeFile(
      join(dir, 'install.js'),
      "const fs = require('fs'); fs.mkdirSync(__dirname + '/dist'); fs.writeFileSync(__dirname + '/dist/electron', ''); fs.writeFileSync(__dirname + '/path.txt', 'electron');",
    );
    expect(await installElectron(dir, 10_000)).toEqual({ ok: true, path: join(dir, 'dist', 'electron') });
  });

  it("fails with the installer's first line of error", async () => {
    await writeFile(join(dir, 'install.js'), "console.error('TypeError: fetch failed\\n    at somewhere'); process.exit(1);");
    expect(await installElectron(dir, 10_000)).toEqual({ ok: false, reason: 'could not reach the download server: TypeError: fetch failed' });
  });

  it('gives up on an installer that hangs', async () => {
    await writeFile(join(dir, 'install.js'), 'setInterval(() => {}, 1000);');
    expect(await installElectron(dir, 300)).toEqual({ ok: false, reason: 'no download within 1 s' });
  });
});

describe('shortReason', () => {
  it('keeps one short line', () => {
    expect(shortReason('\n\nError: checksum mismatch\n    at x')).toBe('checksum mismatch');
    expect(shortReason('x'.repeat(300))).toHaveLength(100);
    expect(shortReason('')).toBe('');
  });
});

describe('hasDisplay', () => {
  it('is true on macOS and Windows, and elsewhere only with X or Wayland', () => {
    expect(hasDisplay({}, 'darwin')).toBe(true);
    expect(hasDisplay({}, 'win32')).toBe(true);
    expect(hasDisplay({}, 'linux')).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBe(true);
  });
});
