import { AppError } from '../../shared/errors.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, d: 86_400, w: 604_800 };

/** Local midnight `daysBack` days before `now`. */
function midnight(now: Date, daysBack: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack);
}

/**
 * A time as journalctl --since reads it: `2h` (or `2h ago`; s, m/min, h, d, w), `now`, `today`,
 * `yesterday` (local midnight), or ISO 8601 (a date alone is local midnight, a time without
 * offset is local time). Returns the ISO form the core takes.
 */
export function parseTime(text: string, option: string, now = new Date()): string {
  const t = text.trim().toLowerCase();
  const relative = /^(\d+)\s*(s|m|min|h|d|w)(?:\s+ago)?$/.exec(t);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_SECONDS[relative[2]!]! * 1000).toISOString();
  if (t === 'now') return now.toISOString();
  if (t === 'today' || t === 'yesterday') return midnight(now, t === 'today' ? 0 : 1).toISOString();
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  const day = date && new Date(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
  const parsed = day
    ? // Date rolls 2026-13-45 over into 2027; a real date comes back as it was written.
      day.getMonth() === Number(date[2]) - 1 && day.getDate() === Number(date[3]) ? day : undefined
    : /^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$/.test(t)
      ? new Date(t.replace(' ', 'T').toUpperCase())
      : undefined;
  if (!parsed || Number.isNaN(parsed.getTime()))
    throw new AppError('INVALID_INPUT', `--${option} takes 2h, 30m, 7d (ago), today, yesterday or an ISO time such as 2026-11-26T09:00 (got ${JSON.stringify(text)}).`);
  return parsed.toISOString();
}
