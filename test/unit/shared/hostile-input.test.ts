import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deleteSnapshotArgv, snapshotArgv } from '../../../electron/core/replication/commands.ts';
import { proposeHostsFromSshConfig } from '../../../electron/core/ssh/config-import.ts';
import { readSshConfig } from '../../../electron/core/ssh/ssh-config.ts';
import { uploadDir } from '../../../electron/core/transfers/upload.ts';
import { fstabLine, normalizePath, parseEntry } from '../../../shared/fstab.ts';
import { host as hostSchema } from '../../../shared/inventory.ts';
import { address, fileName, hostName } from '../../../shared/names.ts';
import { command } from '../../../shared/shell.ts';
import { imageName, repoPath, snapshotPath } from '../../../shared/snapshots.ts';

/**
 * Hostile input, generated: whatever names, fstab fields, ssh_config values and addresses a user
 * or a file brings, every command built from them is read back by a real shell as exactly the
 * words that were meant (none runs as code), and no accepted name leads out of its directory.
 */

// Any text without NUL (which no argv can carry), heavy on what shells and paths care about.
const SHELLY = [..."'\"`$(){}[]*?;&|<>!#~\\ \t\n=%,:.-/", 'é', '\u202e', '\u0085'];
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...SHELLY, 'a', '1'), maxLength: 24 }),
  fc.constantFrom('..', '.', '../../../etc', '-rf', '--', '$(reboot)', '`id`', "'; id; '", 'if', 'A=b', '~root', '*'),
).filter((s) => !s.includes('\0'));

/** The words a real shell (`sh` is dash here, as on the nodes' /bin/sh; bash too) reads from the line. */
function wordsSeenBy(shell: 'sh' | 'bash', line: string): string[] {
  const out = execFileSync(shell, ['-c', line], { encoding: 'buffer', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return out.toString('utf8').split('\0').slice(0, -1);
}
const printf = (words: readonly string[]) => command(['printf', '%s\\0', ...words]);

const accepted = <T>(schema: { safeParse(v: unknown): { success: boolean; data?: T } }) => (v: string) => schema.safeParse(v).success;

/** The import as the operator runs it: a config file read as ssh reads it, then proposed. */
const configDir = mkdtempSync(join(tmpdir(), 'icbd-hostile-ssh-config-'));
function importText(text: string) {
  const file = join(configDir, 'config');
  writeFileSync(file, text);
  return proposeHostsFromSshConfig(readSshConfig(file, configDir), { localUser: 'root', home: configDir });
}

describe('hostile input, generated', () => {
  it('every quoted word reaches sh and bash as exactly that word, never as code', () => {
    for (const shell of ['sh', 'bash'] as const)
      fc.assert(
        fc.property(fc.array(hostile, { minLength: 1, maxLength: 6 }), (words) => {
          expect(wordsSeenBy(shell, printf(words))).toEqual(words);
        }),
        { numRuns: 100 },
      );
  }, 120_000);

  it('image, snapshot and host names that are accepted build commands that say only them, inside the repository root', () => {
    const roots = fc.constantFrom('/var/lib/icbd/.snap', '/srv/repo');
    fc.assert(
      fc.property(roots, hostile, fc.integer({ min: 1, max: 999_999_999 }), hostile, (root, image, number, host) => {
        if (!accepted(imageName)(image)) return;
        const path = snapshotPath(root, image, number);
        expect(posix.normalize(path)).toBe(path);
        expect(path.startsWith(`${root}/`)).toBe(true);
        expect(repoPath.safeParse(path).success).toBe(true);
        for (const argv of [deleteSnapshotArgv(path), snapshotArgv(`/var/lib/icbd/shared-vms/${image}`, path)]) {
          expect(wordsSeenBy('sh', printf(argv))).toEqual(argv);
        }
        if (accepted(hostName)(host)) expect(host).toMatch(/^[a-z][a-z0-9-]*$/);
      }),
      { numRuns: 300 },
    );
  });

  it('an upload name that is accepted stays one entry of its directory', () => {
    const dir = uploadDir('imgs', 'imgs', { workRoot: '/var/lib/icbd/shared-vms' }, { image: 'win10' });
    fc.assert(
      fc.property(hostile, (name) => {
        if (!accepted(fileName)(name)) return;
        const path = `${dir}/${name}`;
        expect(posix.dirname(posix.normalize(path))).toBe(dir);
        expect(wordsSeenBy('sh', printf([path]))).toEqual([path]);
      }),
      { numRuns: 300 },
    );
  });

  it('fstab fields are escaped (whitespace of any kind, line breaks, backslashes): one line, six fields, read back as written', () => {
    const path = fc.array(hostile, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
    fc.assert(
      fc.property(path, path, (source, target) => {
        const line = fstabLine({ source, target, type: 'none', options: ['bind'] });
        expect(line.split('\n')).toHaveLength(1);
        expect(line.split('\t')).toHaveLength(5);
        expect(line.split(/[ \t]+/)).toHaveLength(6);
        const back = parseEntry(line)!;
        expect(back.source).toBe(source);
        expect(back.target).toBe(normalizePath(target));
      }),
      { numRuns: 300 },
    );
  });

  it('ssh_config values become inventory hosts only when each passes its check; the rest are skipped', () => {
    const value = fc.oneof(hostile.map((s) => s.replace(/[\r\n]/g, '')), fc.constantFrom('10.0.0.1', 'fe80::1%eth0', '1:2:3', 'root', '22', 'host,fork'));
    fc.assert(
      fc.property(value, value, value, (hostName_, user, port) => {
        const text = `Host imgs\n  HostName ${hostName_}\n  User ${user}\n  Port ${port}\n`;
        let result;
        try {
          result = importText(text);
        } catch {
          return; // a file ssh-config cannot parse is refused as a whole
        }
        for (const p of result.proposals) expect(hostSchema.safeParse(p.host).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('an accepted address carries nothing a socat address, an ssh argument or a known_hosts line reads as syntax', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.ipV6(), fc.ipV4(), fc.domain()), (a) => {
        if (!accepted(address)(a)) return;
        expect(a).toMatch(/^[A-Za-z0-9.:%_-]+$/);
        expect(a.startsWith('-')).toBe(false);
        expect(a).not.toMatch(/,|!|\[|\]|\s/);
      }),
      { numRuns: 500 },
    );
  });
});
