import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveWrapper, receiveWrapperId } from '../../../../electron/core/replication/pipeline.ts';

/**
 * The replication key's forced command, run by a real sh as sshd runs it (SSH_ORIGINAL_COMMAND):
 * it refuses every request but `true ID` and a well-formed receive, before running anything, and the
 * refusal says why. (The receive itself runs through it in replication-pipeline.test.ts and on the lab.)
 */
let dir: string;
let wrapper: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'icbd-wrapper-'));
  wrapper = join(dir, 'receive');
  writeFileSync(wrapper, receiveWrapper('/x'), { mode: 0o755 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// An empty PATH: a request that got past the checks could run nothing at all here.
const asked = (line: string) => spawnSync('/bin/sh', [wrapper], { env: { SSH_ORIGINAL_COMMAND: line, PATH: '/nonexistent' }, encoding: 'utf8' });

describe('the receive wrapper', () => {
  it('answers the access check for its own identity only: another version, or a wrapper for another repository, fails it', () => {
    expect(asked(`true ${receiveWrapperId('/x')}`).status).toBe(0);
    for (const line of ['true', `true ${receiveWrapperId('/y')}`, `true ${receiveWrapperId('/x')} x`]) {
      expect(asked(line).status, line).toBe(126);
      expect(asked(line).stderr, line).toMatch(/^icbd receive: refused: this receive wrapper is not the one the console expects .*set up node keys again\n$/);
    }
  });

  it.each([
    ['id', /may only receive/],
    ['sh -c id', /may only receive/],
    ['', /may only receive/],
    ['true; id', /may only receive/],
    ['receive zstd t1 cache01 /x/win10', /receive takes/],
    ['receive rm t1 cache01 /x/win10 /x/win10/3 - 0 0', /codec rm/],
    ['receive zstd t1 cache01 /etc /etc/1 - 0 0', /\/etc is not inside the repository \/x/],
    ['receive zstd t1 cache01 /x /x/1 - 0 0', /\/x is not inside the repository \/x/],
    ['receive zstd t1 cache01 /xy/win10 /xy/win10/1 - 0 0', /is not inside the repository/],
    ['receive zstd t;id cache01 /x/win10 /x/win10/3 - 0 0', /transfer id/],
    ['receive zstd t1 Cache01 /x/win10 /x/win10/3 - 0 0', /node name/],
    ['receive zstd t1 cache01 x/win10 x/win10/3 - 0 0', /is not absolute/],
    ['receive zstd t1 cache01 /x/../etc /x/../etc/3 - 0 0', /directory/],
    ['receive zstd t1 cache01 /x/$(id) /x/$(id)/3 - 0 0', /directory/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/../3 - 0 0', /is not \/x\/win10\/NUMBER/],
    ['receive zstd t1 cache01 /x/win10 /x/other/3 - 0 0', /is not \/x\/win10\/NUMBER/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/03 - 0 0', /is not \/x\/win10\/NUMBER/],
    // A resume's words: the staging file inside the repository's .icbd-staging, byte counts as plain digits.
    ['receive zstd t1 cache01 /x/win10 /x/win10/3', /receive takes CODEC TRANSFER NODE DIR DIR\/NUMBER STAGE STAGED DROP/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/elsewhere.stream 0 0', /staging file \/x\/elsewhere.stream/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /y/.icbd-staging/a.stream 0 0', /staging file/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/../a.stream 0 0', /staging file/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a/b.stream 0 0', /staging file/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/$(id).stream 0 0', /staging file/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a.stream 01 0', /byte count 01/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a.stream 1e3 0', /byte count 1e3/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a.stream -1 0', /byte count -1/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a.stream 1234567890123456789 0', /byte count 1234567890123456789/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/a.stream 5 6', /drops 6 bytes of the 5 staged/],
    ['receive zstd t1 cache01 /x/win10 /x/win10/3 - 5 0', /nothing is staged to resume from/],
  ])('refuses %j', (line, why) => {
    const r = asked(line);
    expect(r.status).toBe(126);
    expect(r.stderr).toMatch(/^icbd receive: refused: /);
    expect(r.stderr).toMatch(why);
  });

  it('refuses any generated request that is not a receive, and runs nothing for it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0') && !/^\s*(true|receive)(\s|$)/.test(s)), (line) => {
        const r = asked(line);
        expect(r.status).toBe(126);
        expect(r.stdout).toBe('');
      }),
      { numRuns: 200 },
    );
  });
});

describe("auto compression's link probe through the wrapper", () => {
  it('reads what comes, from its first byte, and says how much and when', () => {
    const r = spawnSync('/bin/sh', [wrapper], { env: { SSH_ORIGINAL_COMMAND: 'probe', PATH: '/usr/bin:/bin' }, input: Buffer.alloc(1 << 20, 7), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^icbd:link 1048575 \d+ \d+$/m);
    expect(asked('probe now').stderr).toMatch(/probe takes no arguments/);
  });
});

describe('the receive the wrapper runs', () => {
  it("is receiverScript's, with every slot filled: the transfer's lock and the snapshot's own lock name what was asked", () => {
    // The wrapper as it would run, stopped where it hands its script to sh: that script, printed.
    const printing = join(dir, 'print');
    writeFileSync(printing, receiveWrapper('/x').replace(/^\[ "\$\(id -u\)".*$/m, '').replace(/^exec sh -c "\$script"$/m, 'printf "%s\\n" "$script"'));
    const script = (line: string) => spawnSync('/bin/sh', [printing], { env: { SSH_ORIGINAL_COMMAND: line, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    const r = script('receive none t1 cache01 /x/win10 /x/win10/3 /x/.icbd-staging/win10@3.u.full.stream 100 40');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('/run/lock/icbd-snapshot-x-win10-3');
    expect(r.stdout).toContain('/run/lock/icbd-receive-t1-cache01');
    expect(r.stdout).toContain('icbd_stage=/x/.icbd-staging/win10@3.u.full.stream icbd_staged=100 icbd_drop=40');
    expect(r.stdout).not.toMatch(/ICBDSLOT|icbdslot/);
    // Nothing staged: the variable is empty, and the script receives without a staging file.
    expect(script('receive none t1 cache01 /x/win10 /x/win10/3 - 0 0').stdout).toContain('icbd_stage= icbd_staged=0 icbd_drop=0');
  });
});
