/** Human output of the CLI: aligned columns, like `ls -l` or `systemctl list-units`. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One JSON value per line (`--watch --json`), as `jq -c` reads a stream. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Colour where the terminal and the operator allow it: hasColors() honours NO_COLOR, FORCE_COLOR and TERM=dumb. */
export function colours(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY && stream.hasColors());
}

/** Progress is drawn only when a person watches (stdout and stderr on a terminal); a script gets the result alone. */
export function showsProgress(): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

/** A line cut to the terminal's width (so rewriting it in place never wraps), an ellipsis where cut. */
export function fit(line: string, columns = process.stderr.columns || 80): string {
  const chars = [...line];
  return chars.length < columns ? line : `${chars.slice(0, Math.max(0, columns - 2)).join('')}…`;
}
