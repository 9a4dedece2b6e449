import { fields, insertLines, replaceOwned, splitLines, type LineKind } from './textfile.ts';

/**
 * /etc/fstab as text: our lines are the ones whose mount point is one of ours (a mount point is
 * mounted once, so a second line for it can only be a stale copy of ours), placed so that every
 * mount comes after the mounts it needs, and checked before the file is written.
 */

export interface FstabEntry {
  source: string;
  target: string;
  type: string;
  options: readonly string[];
}

// The guide: "The arguments are separated by a tab and the numbers by a space".
export function fstabLine(e: FstabEntry): string {
  return `${escape(e.source)}\t${escape(e.target)}\t${e.type}\t${e.options.join(',')}\t0 0`;
}

// Every character a reader could take for a field separator (mount's own splits on space and tab,
// ours and others' on any whitespace, a line break starts a new entry) and the backslash itself,
// written as octal escapes of its UTF-8 bytes, which mount and findmnt decode.
// (encodeURIComponent is the UTF-8 encoder both sides have: every such character comes out as %XX bytes.)
const escape = (field: string) =>
  field.replace(/[\s\\]/gu, (c) =>
    encodeURIComponent(c)
      .split('%')
      .slice(1)
      .map((hex) => `\\${parseInt(hex, 16).toString(8).padStart(3, '0')}`)
      .join(''),
  );
const unescape = (field: string) =>
  field.replace(/(?:\\[0-7]{3})+/g, (run) => {
    const bytes = run.match(/[0-7]{3}/g)!.map((o) => parseInt(o, 8));
    try {
      return decodeURIComponent(bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
    } catch {
      // Not UTF-8 (a line written by another tool in another charset): byte for character.
      return String.fromCharCode(...bytes);
    }
  });

export function normalizePath(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

export const FSTAB: LineKind = {
  keys: (line) => {
    const f = fields(line);
    return f.length >= 2 ? [normalizePath(unescape(f[1]!))] : [];
  },
};

export function parseEntry(line: string): FstabEntry | undefined {
  const f = fields(line);
  if (f.length < 4) return undefined;
  return { source: unescape(f[0]!), target: normalizePath(unescape(f[1]!)), type: f[2]!, options: f[3]!.split(',') };
}

/** `path` is `dir` or lies inside it. */
export function within(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(dir + '/');
}

/**
 * Whether `later` needs `earlier` mounted first: its mount point lies inside `earlier`'s, or its
 * bind source lies inside (or is) `earlier`'s mount point. The source rule is why the cache's nfs4
 * mount of /var/lib/icbd/nfs_home must come before the rbind that exports it, which the guide's
 * order gets wrong (the rbind would publish the empty local directory instead).
 */
export function needs(later: FstabEntry, earlier: FstabEntry): boolean {
  if (later.target !== earlier.target && within(later.target, earlier.target)) return true;
  return later.source.startsWith('/') && within(normalizePath(later.source), earlier.target);
}

/** Parents first; otherwise the given order (the guide's) is kept. */
export function orderMounts<T extends FstabEntry>(entries: readonly T[]): T[] {
  const left = [...entries];
  const out: T[] = [];
  while (left.length > 0) {
    const i = left.findIndex((e) => !left.some((o) => o !== e && needs(e, o)));
    if (i < 0) throw new Error(`The mounts ${left.map((e) => e.target).join(', ')} need each other.`);
    out.push(left.splice(i, 1)[0]!);
  }
  return out;
}

const entriesOf = (text: string) => splitLines(text).map(parseEntry);

/** Whether the file has exactly this entry's line. */
export function hasEntry(text: string, e: FstabEntry): boolean {
  return splitLines(text).some((l) => l.replace(/\n$/, '') === fstabLine(e));
}

/**
 * Where `path` physically lives once the bind mounts are in place: /var/lib/tftpboot/icbd is
 * made inside the tftpboot bind's source, so it exists whether or not that bind is mounted yet.
 */
export function resolveBinds(path: string, entries: readonly FstabEntry[]): string {
  let p = path;
  for (let hops = 0; hops < entries.length; hops++) {
    const parent = entries
      .filter((e) => e.type === 'none' && e.target !== p && e.target !== '/' && within(p, e.target))
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (!parent) break;
    p = normalizePath(parent.source) + p.slice(parent.target.length);
  }
  return p;
}

/**
 * The file with exactly our entries: each replaces the line that mounts the same point (once),
 * a misplaced one moves after what it needs, a new one goes before the first line that needs it
 * or at the end. Every other byte is kept.
 */
export function editFstab(text: string, ours: readonly FstabEntry[]): string {
  const ordered = orderMounts(ours);
  const edit = replaceOwned(
    text,
    FSTAB,
    ordered.map((e) => ({ keys: [e.target], text: fstabLine(e) })),
  );
  let result = edit.text;
  for (const e of ordered) {
    const lines = splitLines(result);
    const entries = lines.map(parseEntry);
    const at = entries.findIndex((x) => x?.target === e.target && fstabLine(x) === fstabLine(e));
    if (at >= 0) {
      const lastNeeded = entries.findLastIndex((x) => x !== undefined && needs(e, x));
      if (lastNeeded > at) {
        const [line] = lines.splice(at, 1);
        // after the removal the needed line sits at lastNeeded - 1
        if (!lines[lastNeeded - 1]!.endsWith('\n')) lines[lastNeeded - 1] += '\n';
        lines.splice(lastNeeded, 0, line!.endsWith('\n') ? line! : line + '\n');
        result = lines.join('');
      }
      continue;
    }
    const firstNeeding = entries.findIndex((x) => x !== undefined && needs(x, e));
    result = insertLines(result, firstNeeding >= 0 ? firstNeeding : undefined, [fstabLine(e)]);
  }
  return result;
}

const UUID = /^UUID=[0-9a-fA-F-]{36}$/;
const OUR_TYPES = new Set(['btrfs', 'none', 'nfs4']);

/**
 * What is wrong with a candidate /etc/fstab: every line's shape, duplicate mount points, order,
 * and our own entries' exact form. Runs before the file is written, also on hosts whose
 * util-linux has no `findmnt --verify` (CentOS 7).
 */
export function fstabProblems(text: string, ours: readonly FstabEntry[]): string[] {
  const problems: string[] = [];
  const lines = splitLines(text);
  const entries = entriesOf(text);
  const seen = new Map<string, number>();
  lines.forEach((raw, i) => {
    const f = fields(raw);
    if (f.length === 0) return;
    const n = i + 1;
    if (f.length < 4 || f.length > 6) problems.push(`line ${n}: ${f.length} fields; an fstab line has 4 to 6.`);
    if (f.slice(4).some((x) => !/^\d+$/.test(x))) problems.push(`line ${n}: the dump and pass fields are numbers.`);
    const e = entries[i];
    if (!e) return;
    if (e.type === 'swap') return;
    if (!e.target.startsWith('/')) problems.push(`line ${n}: the mount point ${e.target} is not an absolute path.`);
    if (e.options.some((o) => o === '')) problems.push(`line ${n}: empty mount option in ${f[3]}.`);
    const before = seen.get(e.target);
    if (before !== undefined) problems.push(`line ${n}: ${e.target} is already mounted by line ${before}.`);
    seen.set(e.target, n);
  });
  entries.forEach((e, i) => {
    if (!e) return;
    const j = entries.findIndex((x, k) => k > i && x !== undefined && needs(e, x));
    if (j >= 0) problems.push(`line ${i + 1}: ${e.target} needs ${entries[j]!.target}, which is only mounted on line ${j + 1}.`);
  });
  for (const e of ours) {
    const found = entries.filter((x) => x?.target === e.target);
    if (found.length !== 1 || fstabLine(found[0]!) !== fstabLine(e)) problems.push(`${e.target}: our line is missing or altered.`);
    problems.push(...entryProblems(e));
  }
  return problems;
}

/** Our entries are one of three shapes; anything else is a bug in the role data. */
export function entryProblems(e: FstabEntry): string[] {
  const where = `${e.source} on ${e.target}`;
  const problems: string[] = [];
  if (!OUR_TYPES.has(e.type)) problems.push(`${where}: type ${e.type} is not one the installer writes.`);
  if (!e.target.startsWith('/')) problems.push(`${where}: the mount point is not absolute.`);
  if (e.type === 'btrfs' && (!UUID.test(e.source) || !e.options.some((o) => /^subvol=[^,\s]+$/.test(o)))) {
    problems.push(`${where}: a btrfs line names its filesystem by UUID= and its subvolume by subvol=.`);
  }
  if (e.type === 'none' && (!e.source.startsWith('/') || !e.options.some((o) => o === 'bind' || o === 'rbind'))) {
    problems.push(`${where}: a bind line has an absolute source and the bind or rbind option.`);
  }
  if (e.type === 'nfs4' && (!/^[a-z0-9.-]+:\/\S*$/.test(e.source) || !e.options.includes('_netdev'))) {
    problems.push(`${where}: an nfs4 line is host:/path with _netdev.`);
  }
  return problems;
}
