import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { knownHostName, type KnownHostEntry, type KnownKey } from '../../../shared/ssh.ts';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../util/files.ts';

/**
 * known_hosts per OpenSSH (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): the operator's own files are
 * read so hosts they already trust are not asked again; the app writes only its own file, in the
 * same format, so `ssh-keygen -R NAME -f FILE` and `ssh -o UserKnownHostsFile=FILE` work on it.
 */

export interface KnownHostLine {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: comma-separated patterns, or one |1|salt|hash. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string, file: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let marker: KnownHostLine['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // an unknown marker: OpenSSH skips the line, and so do we
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    // The blob names its own type; a line whose type field disagrees is corrupt, not a key.
    if (keyTypeOf(key) !== keyType) return;
    out.push({ file, line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return out;
}

/** The algorithm name inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return len > 0 && len < 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : '';
}

/** SHA256:base64-without-padding, as `ssh-keygen -l` and OpenSSH's prompts print it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A HashKnownHosts entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

// OpenSSH's match_pattern: `*` and `?` wildcards, case-insensitive for host names.
function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/** Whether a line's host field names `name` (`host` or `[host]:port`), negations included. */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    // A matching negated pattern rules the line out whatever else matches (OpenSSH match_hostname).
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) matched = true;
  }
  return matched;
}

export type HostKeyCheck =
  | { state: 'known'; entry: KnownHostLine }
  | { state: 'unknown'; otherKnown: KnownKey[] }
  | { state: 'changed'; known: (KnownKey & { file: string; line: number })[] }
  | { state: 'revoked'; entry: KnownHostLine };

/**
 * OpenSSH's decision for a presented key: revoked beats everything; a line of the same key type
 * with the same key makes it known; lines of that type with other keys mean it changed. Keys of
 * other types do not make it changed (a server has several), but are shown when asking.
 * @cert-authority lines vouch for certificates, which we never accept, so they are not used.
 */
export function checkHostKey(lines: readonly KnownHostLine[], name: string, key: Buffer): HostKeyCheck {
  const type = keyTypeOf(key);
  const forHost = lines.filter((l) => l.marker !== 'cert-authority' && hostFieldMatches(l.hosts, name));
  const revoked = forHost.find((l) => l.marker === 'revoked' && l.key.equals(key));
  if (revoked) return { state: 'revoked', entry: revoked };
  const plain = forHost.filter((l) => l.marker === undefined);
  const same = plain.find((l) => l.key.equals(key));
  if (same) return { state: 'known', entry: same };
  const sameType = plain.filter((l) => l.keyType === type);
  if (sameType.length) {
    return { state: 'changed', known: sameType.map((l) => ({ keyType: l.keyType, fingerprint: fingerprintOf(l.key), file: l.file, line: l.line })) };
  }
  const other = new Map(plain.map((l) => [fingerprintOf(l.key), l.keyType]));
  return { state: 'unknown', otherKnown: [...other].map(([fingerprint, keyType]) => ({ keyType, fingerprint })) };
}

export const KNOWN_HOSTS_FILE = 'known_hosts';

/** The app's own file (written) and the operator's OpenSSH files (only read). */
export class KnownHosts {
  readonly appFile: string;

  constructor(
    home: string,
    private readonly readOnlyFiles: readonly string[],
  ) {
    this.appFile = join(home, KNOWN_HOSTS_FILE);
  }

  async lines(): Promise<KnownHostLine[]> {
    const files = [this.appFile, ...this.readOnlyFiles];
    const texts = await Promise.all(files.map((f) => readFileIfExists(f).catch(() => undefined)));
    return texts.flatMap((t, i) => (t === undefined ? [] : parseKnownHosts(t, files[i]!)));
  }

  async check(address: string, port: number, key: Buffer): Promise<HostKeyCheck & { name: string }> {
    const name = knownHostName(address, port);
    return { ...checkHostKey(await this.lines(), name, key), name };
  }

  /** Key types already trusted for an address, so the handshake can prefer them as OpenSSH does. */
  async knownTypes(address: string, port: number): Promise<string[]> {
    const name = knownHostName(address, port);
    const lines = (await this.lines()).filter((l) => l.marker === undefined && hostFieldMatches(l.hosts, name));
    return [...new Set(lines.map((l) => l.keyType))];
  }

  async add(address: string, port: number, key: Buffer): Promise<void> {
    const entry = `${knownHostName(address, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
    await withFileLock(this.appFile, async () => {
      const text = (await readFileIfExists(this.appFile)) ?? '';
      await writeFileAtomic(this.appFile, text + (text === '' || text.endsWith('\n') ? '' : '\n') + entry, 0o644);
    });
  }

  async list(): Promise<KnownHostEntry[]> {
    return (await this.lines()).map((l) => ({
      file: l.file,
      line: l.line,
      hosts: l.hosts.startsWith('|1|') ? '(hashed)' : l.hosts,
      ...(l.marker ? { marker: l.marker } : {}),
      keyType: l.keyType,
      fingerprint: fingerprintOf(l.key),
      editable: l.file === this.appFile,
    }));
  }

  /** Removes every plain key line of the app's file that names this address; returns how many. */
  async forget(address: string, port: number): Promise<number> {
    const name = knownHostName(address, port);
    return withFileLock(this.appFile, async () => {
      const text = await readFileIfExists(this.appFile);
      if (text === undefined) return 0;
      const drop = new Set(parseKnownHosts(text, this.appFile).filter((l) => l.marker === undefined && hostFieldMatches(l.hosts, name)).map((l) => l.line));
      if (drop.size === 0) return 0;
      await writeFileAtomic(this.appFile, text.split('\n').filter((_, i) => !drop.has(i + 1)).join('\n'), 0o644);
      return drop.size;
    });
  }
}
