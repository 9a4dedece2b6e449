/**
 * Editing a configuration file by the lines we own, leaving every other byte alone: comments,
 * blank lines, spacing and lines we do not understand stay exactly as they were. Used for
 * /etc/fstab, /etc/hosts, /etc/sysctl.conf, /etc/exports, /etc/selinux/config and the ssh files.
 *
 * Ownership is by key, not by a marker comment: each file kind says which keys a line claims
 * (the mount point of an fstab line, the names of a hosts line, the key of a sysctl line). A line
 * is ours when it claims a key of a line we want, wherever it came from — the operator's own
 * `/dev/sdb /var/lib …` typed from the guide is replaced by ours, never left next to it. Markers
 * were rejected because the guide's files are also written by hand and by the iCBD backup, and
 * because some readers (dnsmasq reading /etc/hosts) treat trailing text as data.
 */

/** The file as lines, each with its own terminator; only the last one may lack "\n". */
export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

export interface LineKind {
  /** The keys a line (without its "\n") claims; none for comments, blanks and unknown lines. */
  keys(line: string): readonly string[];
}

export interface WantedLine {
  keys: readonly string[];
  text: string;
}

export interface Edit {
  text: string;
  /** Wanted lines that were not in the file and still have to be placed. */
  missing: WantedLine[];
}

/**
 * Replaces, in place, every line that claims a key of a wanted line: the first such line becomes
 * the wanted line(s), later ones are dropped (no duplicates). Missing lines are returned for the
 * caller to place (see `appendLines` and fstab's parent-first placement).
 */
export function replaceOwned(text: string, kind: LineKind, wanted: readonly WantedLine[]): Edit {
  const byKey = new Map<string, number>();
  wanted.forEach((w, i) => w.keys.forEach((k) => byKey.set(k, i)));
  const placed = new Set<number>();
  const out: string[] = [];
  for (const raw of splitLines(text)) {
    const eol = raw.endsWith('\n') ? '\n' : '';
    const claimed = [...new Set(kind.keys(raw.slice(0, raw.length - eol.length)).flatMap((k) => byKey.get(k) ?? []))].sort((x, y) => x - y);
    if (claimed.length === 0) {
      out.push(raw);
      continue;
    }
    const fresh = claimed.filter((i) => !placed.has(i));
    fresh.forEach((i, n) => {
      placed.add(i);
      out.push(wanted[i]!.text + (n === fresh.length - 1 ? eol : '\n'));
    });
  }
  return { text: out.join(''), missing: wanted.filter((_, i) => !placed.has(i)) };
}

/** Inserts lines before line index `at` (or at the end), adding the final newline the file lacked. */
export function insertLines(text: string, at: number | undefined, lines: readonly string[]): string {
  if (lines.length === 0) return text;
  const all = splitLines(text);
  const index = at ?? all.length;
  if (index === all.length && all.length > 0 && !all[all.length - 1]!.endsWith('\n')) all[all.length - 1] += '\n';
  all.splice(index, 0, ...lines.map((l) => l + '\n'));
  return all.join('');
}

/** The usual case: our lines replaced where they are, the missing ones appended in order. */
export function editOwned(text: string, kind: LineKind, wanted: readonly WantedLine[]): string {
  const edit = replaceOwned(text, kind, wanted);
  return insertLines(
    edit.text,
    undefined,
    edit.missing.map((w) => w.text),
  );
}

/** The whitespace-separated fields of a line, or none when it is blank or a comment. */
export function fields(line: string): string[] {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return [];
  return trimmed.split(/\s+/);
}
