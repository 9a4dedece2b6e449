import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { auditEntry, type AuditEntry } from '../../../shared/audit.ts';
import { readFileIfExists } from '../util/files.ts';
import type { EventBus } from '../util/events.ts';

export const AUDIT_FILE = 'audit.jsonl';

export type AuditRecord = Omit<AuditEntry, 'at' | 'actor' | 'door'>;

/**
 * The audit log: append-only JSON lines in the data directory, each entry flushed to disk before
 * the call returns, so a crash right after a change still leaves its record. Several doors may
 * append at once: each entry is one write() to a file opened with O_APPEND, which the kernel
 * keeps whole.
 */
export class AuditLog {
  readonly path: string;
  readonly #actor = `${safeUser()}@${hostname()}`;

  constructor(
    home: string,
    private readonly door: AuditEntry['door'],
    private readonly events?: EventBus,
  ) {
    this.path = join(home, AUDIT_FILE);
  }

  async append(record: AuditRecord): Promise<AuditEntry> {
    const entry = auditEntry.parse({ at: new Date().toISOString(), actor: this.#actor, door: this.door, ...record });
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const fh = await open(this.path, 'a', 0o600);
    try {
      await fh.write(JSON.stringify(entry) + '\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.events?.emit('audit.appended', entry);
    return entry;
  }

  /** Newest first. A line that is not a valid entry (a torn write from a crash) is skipped, not fatal. */
  async list(query: { host?: string; since?: string; until?: string; limit: number }): Promise<AuditEntry[]> {
    const text = (await readFileIfExists(this.path)) ?? '';
    const since = query.since ? Date.parse(query.since) : -Infinity;
    const until = query.until ? Date.parse(query.until) : Infinity;
    const out: AuditEntry[] = [];
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0 && out.length < query.limit; i--) {
      const line = lines[i];
      if (!line) continue;
      let parsed;
      try {
        parsed = auditEntry.safeParse(JSON.parse(line));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      const e = parsed.data;
      const t = Date.parse(e.at);
      if ((query.host && e.host !== query.host) || t < since || t > until) continue;
      out.push(e);
    }
    return out;
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid${process.getuid?.() ?? '?'}`;
  }
}
