import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WRITE_FSTAB_REJECTED, writeArgv } from '../../../../electron/core/ssh/remote-command.ts';

/** The remote writer's script, run here by a real sh on a scratch directory, as a node runs it. */
let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'icbd-remote-write-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (argv: string[], stdin: string) => spawnSync(argv[0]!, argv.slice(1), { input: stdin, encoding: 'utf8' });

describe('the remote writer', () => {
  it('leaves the file as it was, and no temp file, when fewer bytes arrive than were announced', () => {
    const path = join(dir, 'fstab');
    writeFileSync(path, 'old\n');
    const r = write(writeArgv(path, 100, 0o644), 'new, but cut short\n');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/received 19 of 100 bytes/);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['fstab']);
  });

  it('in place, keeps the inode (a bind mount stays attached) and leaves no temp file', () => {
    const path = join(dir, 'hosts');
    writeFileSync(path, 'old\n');
    const inode = statSync(path).ino;
    const r = write(writeArgv(path, 4, 0o644, { inPlace: true }), 'new\n');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(statSync(path).ino).toBe(inode);
    expect(readdirSync(dir)).toEqual(['hosts']);
  });

  it('in place, a short copy changes nothing either', () => {
    const path = join(dir, 'hosts');
    writeFileSync(path, 'old\n');
    expect(write(writeArgv(path, 9, 0o644, { inPlace: true }), 'new\n').status).toBe(3);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
  });

  it('an fstab findmnt --verify rejects is not put in place', () => {
    const path = join(dir, 'fstab');
    writeFileSync(path, 'old\n');
    const bad = 'UUID=not-a-device /nowhere bogusfs defaults 0 0\n';
    const r = write(writeArgv(path, bad.length, 0o644, { fstab: true }), bad);
    expect(r.status).toBe(WRITE_FSTAB_REJECTED);
    expect(r.stderr).toContain(`findmnt --verify rejects the new ${path}`);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['fstab']);
  });
});
