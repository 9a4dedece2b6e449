import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../electron/core/audit/log.ts';
import { EventBus } from '../../../../electron/core/util/events.ts';

const home = () => mkdtempSync(join(tmpdir(), 'icbd-audit-'));

describe('audit log', () => {
  it('appends whole JSON lines, private to the operator, and announces each entry', async () => {
    const events = new EventBus();
    const seen: string[] = [];
    events.on('audit.appended', (e) => seen.push(e.action));
    const log = new AuditLog(home(), 'cli', events);
    await log.append({ host: 'cache01', action: 'fstab', diff: '+/dev/vdb /var/lib btrfs subvol=Lib 0 0', result: 'ok' });
    await log.append({ host: 'imgs', action: 'sysctl', command: "sysctl -w 'net.ipv4.ip_forward=1'", result: 'failed', detail: 'exit 1' });
    const lines = readFileSync(log.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ host: 'imgs', door: 'cli', result: 'failed' });
    expect(statSync(log.path).mode & 0o777).toBe(0o600);
    expect(seen).toEqual(['fstab', 'sysctl']);
  });

  it('lists newest first, filtered by host and time, skipping a torn last line', async () => {
    const log = new AuditLog(home(), 'electron');
    await log.append({ host: 'cache01', action: 'a', result: 'ok' });
    // Times are in milliseconds: step off the entries' own millisecond on both sides.
    await new Promise((r) => setTimeout(r, 5));
    const middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await log.append({ host: 'imgs', action: 'b', result: 'ok' });
    await log.append({ host: 'cache01', action: 'c', result: 'ok' });
    appendFileSync(log.path, '{"at":"2026-');
    expect((await log.list({ limit: 10 })).map((e) => e.action)).toEqual(['c', 'b', 'a']);
    expect((await log.list({ host: 'cache01', limit: 10 })).map((e) => e.action)).toEqual(['c', 'a']);
    expect((await log.list({ since: middle, limit: 10 })).map((e) => e.action)).toEqual(['c', 'b']);
    expect((await log.list({ limit: 1 })).map((e) => e.action)).toEqual(['c']);
  });

  it('keeps every entry when writers append concurrently', async () => {
    const dir = home();
    const a = new AuditLog(dir, 'cli');
    const b = new AuditLog(dir, 'electron');
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).append({ host: 'imgs', action: `x${i}`, result: 'ok' })));
    expect(await a.list({ limit: 100 })).toHaveLength(50);
  });
});
