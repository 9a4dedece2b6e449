/** How sizes, rates and durations read in the monitor, the tree and the CLI: one format everywhere. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number | null | undefined): string {
  return bytesPerSecond === null || bytesPerSecond === undefined ? '–' : `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * "20M", "512k", "1.5G", "100000": bytes per second, read as btrbk's rate_limit and pv -L read
 * them (k, m, g, t: powers of 1024; a trailing B, iB or /s is allowed). NaN when it is not a rate.
 */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  if (!m) return NaN;
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf(m[2]!.toLowerCase() || ' '));
}

/** A link's speed as network people say it: "94 Mbit/s", "2.4 Gbit/s". */
export function formatBitRate(bytesPerSecond: number): string {
  const m = (bytesPerSecond * 8) / 1e6;
  return m >= 1000 ? `${(m / 1000).toFixed(1)} Gbit/s` : `${m.toFixed(m < 10 ? 1 : 0)} Mbit/s`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatPercent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? '–' : `${Math.floor(fraction * 100)} %`;
}

/** "3 min ago", "2 d ago": the age of a snapshot. */
export function formatAge(at: number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return '–';
  const s = Math.max(0, (now - at) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/**
 * A moment as the audit log shows it, in the window and the CLI alike: local time (or `timeZone`'s)
 * with its zone, sortable, e.g. "2026-12-06 17:40:12 CET".
 */
export function formatTime(at: string | number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    ...(timeZone !== undefined && { timeZone }),
  }).formatToParts(new Date(at));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}
