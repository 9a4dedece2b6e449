/**
 * The benchmark's arithmetic and printing: medians, MB/s, and ratios against their goals. Kept
 * apart from the lab driving so the figures' meaning can be read in one place.
 */

export interface Row {
  name: string;
  /** Seconds of each run, start to verified receive. */
  runs: number[];
  /** Uncompressed stream bytes the row moved (what MB/s is computed on). */
  bytes: number;
  note?: string;
}

export interface Ratio {
  name: string;
  /** null: the row cannot be measured in this build (the note says what it waits for); never a stand-in figure. */
  value: number | null;
  goal: { op: '>=' | '<='; value: number } | { op: 'in'; min: number; max: number } | null;
  /** Why the figure is what it is (the reason a goal is missed, or what "report" means here). */
  note?: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const mbps = (row: Row) => row.bytes / 1e6 / median(row.runs);

export function met(r: Ratio): boolean | null {
  if (!r.goal || r.value === null) return null;
  if (r.goal.op === 'in') return r.value >= r.goal.min && r.value <= r.goal.max;
  return r.goal.op === '>=' ? r.value >= r.goal.value : r.value <= r.goal.value;
}

function pad(cells: readonly string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function rowsTable(rows: readonly Row[]): string {
  return pad([
    ['pipeline', 'runs (s)', 'median s', 'MB/s'],
    ...rows.map((r) => [r.name + (r.note ? ` (${r.note})` : ''), r.runs.map((s) => s.toFixed(2)).join(' '), median(r.runs).toFixed(2), mbps(r).toFixed(0)]),
  ]);
}

function goalText(g: Ratio['goal']): string {
  if (!g) return '-';
  return g.op === 'in' ? `${g.min}–${g.max}` : `${g.op} ${g.value}`;
}

export function ratiosTable(ratios: readonly Ratio[]): string {
  const verdict = (r: Ratio) => {
    const ok = met(r);
    if (r.value === null) return 'not available';
    return ok === null ? 'report' : ok ? 'met' : 'MISSED';
  };
  const table = pad([['ratio', 'value', 'goal', ''], ...ratios.map((r) => [r.name, r.value === null ? '-' : r.value.toFixed(3), goalText(r.goal), verdict(r)])]);
  const notes = ratios.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  return [table, '', ...notes].join('\n');
}
