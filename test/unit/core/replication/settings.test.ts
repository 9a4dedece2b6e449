import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplicationSettings } from '../../../../electron/core/replication/settings.ts';

let home: string;
beforeEach(() => void (home = mkdtempSync(join(tmpdir(), 'icbd-repl-settings-'))));
afterEach(() => rmSync(home, { recursive: true, force: true }));

const stored = (replicationAddress: string) =>
  writeFileSync(join(home, 'replication.json'), JSON.stringify({ version: 1, nodes: { cache01: { replicationAddress } } }));

describe('replication.json read back', () => {
  it('is checked as the API checks a change: an address that would reach socat as code is refused, in words', async () => {
    // socat reads "," and ":" inside its address strings: this would add an option of its own.
    stored('10.0.2.1,fork,exec:id');
    const settings = new ReplicationSettings(home);
    await expect(settings.get('cache01', 'cache')).rejects.toThrow(/replication\.json does not hold replication settings the console would accept \(nodes\.cache01\.replicationAddress: The address must be .*\); fix or move it away/);
  });

  it('gives a valid address back', async () => {
    stored('fe80::1%eth1');
    expect((await new ReplicationSettings(home).get('cache01', 'cache')).replicationAddress).toBe('fe80::1%eth1');
  });
});
