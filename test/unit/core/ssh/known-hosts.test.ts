import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprintOf, hashHostName, hostFieldMatches, keyTypeOf, KnownHosts, parseKnownHosts } from '../../../../electron/core/ssh/known-hosts.ts';
import { guessRole, keyTypeLabel, knownHostName } from '../../../../shared/ssh.ts';

const sshString = (b: Buffer) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const blob = (type: string, seed: number) => Buffer.concat([sshString(Buffer.from(type)), sshString(Buffer.alloc(32, seed))]);
const b64 = (b: Buffer) => b.toString('base64');

const ed1 = blob('ssh-ed25519', 1);
const ed2 = blob('ssh-ed25519', 2);
const ec1 = blob('ecdsa-sha2-nistp256', 3);
const tmp = () => mkdtempSync(join(tmpdir(), 'icbd-kh-'));

describe('known_hosts parsing', () => {
  it('reads plain, [host]:port, markers and comments, and skips broken lines', () => {
    const text = [
      '# a comment',
      '',
      `imgs,10.0.0.1 ssh-ed25519 ${b64(ed1)} root@imgs`,
      `[10.0.0.5]:2222 ecdsa-sha2-nistp256 ${b64(ec1)}`,
      `@revoked * ssh-ed25519 ${b64(ed2)}`,
      `@cert-authority *.lab ssh-ed25519 ${b64(ed1)}`,
      `@weird host ssh-ed25519 ${b64(ed1)}`,
      'host ssh-ed25519 not-base64!',
      `host ssh-rsa ${b64(ed1)}`, // the type field disagrees with the blob
    ].join('\n');
    const lines = parseKnownHosts(text, 'f');
    expect(lines.map((l) => [l.line, l.marker ?? '', l.hosts])).toEqual([
      [3, '', 'imgs,10.0.0.1'],
      [4, '', '[10.0.0.5]:2222'],
      [5, 'revoked', '*'],
      [6, 'cert-authority', '*.lab'],
    ]);
    expect(keyTypeOf(lines[1]!.key)).toBe('ecdsa-sha2-nistp256');
  });

  it('matches patterns like OpenSSH: wildcards, negation, case, ports', () => {
    expect(hostFieldMatches('imgs,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostFieldMatches('IMGS', 'imgs')).toBe(true);
    expect(hostFieldMatches('*.lab,!bad.lab', 'cache01.lab')).toBe(true);
    expect(hostFieldMatches('*.lab,!bad.lab', 'bad.lab')).toBe(false);
    expect(hostFieldMatches('cache0?', 'cache07')).toBe(true);
    expect(hostFieldMatches('10.0.0.5', '[10.0.0.5]:2222')).toBe(false);
    expect(hostFieldMatches('[10.0.0.5]:2222', knownHostName('10.0.0.5', 2222))).toBe(true);
    expect(knownHostName('10.0.0.5', 22)).toBe('10.0.0.5');
  });

  it('matches hashed entries written by ssh-keygen -H, and hashes the same way', () => {
    const dir = tmp();
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.1]:2200 ssh-ed25519 ${b64(ed1)}\nimgs.lab ssh-ed25519 ${b64(ed2)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const lines = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(lines.every((l) => l.hosts.startsWith('|1|'))).toBe(true);
    expect(checkHostKey(lines, '[127.0.0.1]:2200', ed1).state).toBe('known');
    expect(checkHostKey(lines, 'imgs.lab', ed2).state).toBe('known');
    expect(checkHostKey(lines, 'imgs.lab', ed1).state).toBe('changed');
    expect(checkHostKey(lines, '127.0.0.1', ed1).state).toBe('unknown');
    // Our hash of a name is found by OpenSSH's own lookup.
    writeFileSync(file, `${hashHostName('[10.1.2.3]:2022')} ssh-ed25519 ${b64(ed1)}\n`);
    expect(execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2022', '-f', file], { encoding: 'utf8' })).toMatch(/found: line 1/);
  });

  it('decides known / changed / revoked / unknown, with several keys per host', () => {
    const lines = parseKnownHosts(
      [`h ssh-ed25519 ${b64(ed1)}`, `h ecdsa-sha2-nistp256 ${b64(ec1)}`, `h2 ssh-ed25519 ${b64(ed1)}`, `h2 ssh-ed25519 ${b64(ed2)}`, `@revoked h3 ssh-ed25519 ${b64(ed2)}`, `h3 ssh-ed25519 ${b64(ed2)}`, `@cert-authority h4 ssh-ed25519 ${b64(ed1)}`].join('\n'),
      'f',
    );
    expect(checkHostKey(lines, 'h', ec1).state).toBe('known');
    expect(checkHostKey(lines, 'h2', ed2).state).toBe('known'); // any of several keys of one type
    const changed = checkHostKey(lines, 'h', ed2);
    expect(changed).toMatchObject({ state: 'changed', known: [{ fingerprint: fingerprintOf(ed1), line: 1 }] });
    expect(checkHostKey(lines, 'h3', ed2).state).toBe('revoked'); // revoked wins over a plain line
    // A CA line is not a host key: the host stays unknown, never "changed".
    expect(checkHostKey(lines, 'h4', ed2)).toEqual({ state: 'unknown', otherKnown: [] });
    // A new key type for a known host is unknown, with the known ones shown (OpenSSH's "other keys").
    const other = checkHostKey(parseKnownHosts(`h ecdsa-sha2-nistp256 ${b64(ec1)}`, 'f'), 'h', ed1);
    expect(other).toEqual({ state: 'unknown', otherKnown: [{ keyType: 'ecdsa-sha2-nistp256', fingerprint: fingerprintOf(ec1) }] });
  });

  it('prints fingerprints as ssh-keygen -l does', () => {
    const dir = tmp();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const pub = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ');
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprintOf(Buffer.from(pub[1]!, 'base64'))).toBe(fp);
    expect(keyTypeLabel('ssh-ed25519')).toBe('ED25519');
  });
});

describe('the app known_hosts file', () => {
  it('adds in OpenSSH format, lists with editability, forgets only its own entries', async () => {
    const dir = tmp();
    const user = join(dir, 'user_known_hosts');
    writeFileSync(user, `[127.0.0.1]:2200 ssh-ed25519 ${b64(ed2)}\n`);
    const kh = new KnownHosts(dir, [user, join(dir, 'missing')]);
    await kh.add('127.0.0.1', 2200, ed1);
    await kh.add('imgs.lab', 22, ed1);
    expect(readFileSync(kh.appFile, 'utf8')).toBe(`[127.0.0.1]:2200 ssh-ed25519 ${b64(ed1)}\nimgs.lab ssh-ed25519 ${b64(ed1)}\n`);
    // ssh-keygen finds what we wrote.
    expect(execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2200', '-f', kh.appFile], { encoding: 'utf8' })).toMatch(/found: line 1/);
    expect((await kh.list()).map((e) => [e.hosts, e.editable])).toEqual([
      ['[127.0.0.1]:2200', true],
      ['imgs.lab', true],
      ['[127.0.0.1]:2200', false],
    ]);
    expect(await kh.knownTypes('127.0.0.1', 2200)).toEqual(['ssh-ed25519']);
    expect(await kh.forget('127.0.0.1', 2200)).toBe(1);
    expect(readFileSync(kh.appFile, 'utf8')).toBe(`imgs.lab ssh-ed25519 ${b64(ed1)}\n`);
    expect(readFileSync(user, 'utf8')).toContain('[127.0.0.1]:2200'); // the operator's file is untouched
    expect((await kh.check('127.0.0.1', 2200, ed1)).state).toBe('changed'); // ~/.ssh's key still counts
  });
});

describe('role guessing', () => {
  it('reads roles from names and addresses', () => {
    expect(guessRole('imgs')).toBe('imgs');
    expect(guessRole('icbd-imgs')).toBe('imgs');
    expect(guessRole('rw')).toBe('rw');
    expect(guessRole('lab-rw1')).toBe('rw');
    expect(guessRole('home')).toBe('home');
    expect(guessRole('cache01')).toBe('cache');
    expect(guessRole('cache-02')).toBe('cache');
    expect(guessRole('node7', 'cache07.icbd.lab')).toBe('cache');
    expect(guessRole('router')).toBeUndefined();
    expect(guessRole('homer')).toBeUndefined();
    expect(guessRole('rwanda')).toBeUndefined();
  });
});
