/**
 * The CLI as the operator runs it (node electron/cli/icbd.mjs, a process of its own, no terminal):
 * help on stdout with exit 0, usage errors with exit 2 and the nearest word, --json for scripts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../electron/core/audit/log.ts';
import { tempDirs } from '../../temp-dirs.ts';

const dirs = tempDirs('cli-run', ['home', 'lab']);
const execFileP = promisify(execFile);

async function icbd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileP('node', ['electron/cli/icbd.mjs', '--home', dirs.home, ...args], { env: { ...process.env, ICBD_LAB_DIR: dirs.lab, NO_COLOR: '1' }, timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

// Each run is a Node process with tsx: a few seconds on a loaded machine.
describe('icbd help, --help and -h', { timeout: 60_000 }, () => {
  it('icbd help: every command and the exit statuses, on stdout, exit 0', async () => {
    const r = await icbd('help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage: icbd \[--home DIR\] \[--accept-new\] COMMAND/);
    expect(r.stdout).toMatch(/^exit status:\n {2}0 +success\n {2}1 .*\n {2}2 +bad usage.*\n {2}130 +interrupted \(Ctrl-C\)/m);
  });

  it("help CMD, CMD --help and CMD -h print the same usage of that command, exit 0", async () => {
    const outs = await Promise.all([icbd('help', 'hosts', 'add'), icbd('hosts', 'add', '--help'), icbd('hosts', 'add', 'x', '-h')]);
    for (const r of outs) expect(r).toMatchObject({ code: 0, stderr: '', stdout: outs[0]!.stdout });
    expect(outs[0]!.stdout).toMatch(/^usage: icbd hosts add NAME --address ADDR --role ROLE/);
    expect(outs[0]!.stdout).toMatch(/^ {2}--role ROLE +imgs, rw, home or cache$/m);
    const lab = await icbd('lab', '--help');
    expect(lab).toMatchObject({ code: 0, stderr: '' });
    expect(lab.stdout).toMatch(/^subcommands:\n {2}up +bring the lab up/m);
  });

  it('a -h after -- belongs to the remote command, not to icbd', async () => {
    const r = await icbd('exec', 'nosuchhost', '--', 'ls', '-h');
    expect(r.stdout).not.toMatch(/usage:/);
    expect(r.code).not.toBe(0);
  });

  it('no command: the usage on stderr, exit 2', async () => {
    const r = await icbd();
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^usage: icbd/);
  });
});

describe('usage errors: exit 2, the nearest word', { timeout: 60_000 }, () => {
  it.each([
    [['hsots', 'list'], /^icbd: unknown command 'hsots'\. Did you mean 'hosts'\?/],
    [['hosts', 'lst'], /^icbd: unknown hosts subcommand 'lst'\. Did you mean 'list'\?/],
    [['hosts', 'list', '--jsn'], /^icbd: Unknown option '--jsn'\. Did you mean --json\?\nusage: icbd hosts list \[--json\]/],
    [['transfers', '--wacth'], /^icbd: Unknown option '--wacth'\. Did you mean --watch\?/],
    [['audit', '--since', 'yeserday'], /^icbd: --since takes 2h, 30m, 7d \(ago\), today, yesterday or an ISO time/],
    [['known-hosts'], /^icbd: icbd known-hosts needs a subcommand\./],
  ])('icbd %j', async (args, message) => {
    const r = await icbd(...args);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
  });
});

describe('--json', { timeout: 120_000 }, () => {
  it('hosts list, version, audit --since, known-hosts forget, cancel and lab status answer in JSON', async () => {
    expect(JSON.parse((await icbd('hosts', 'list', '--json')).stdout)).toEqual([]);
    const added = await icbd('hosts', 'add', 'imgs', '--address', '192.0.2.10', '--role', 'imgs', '--json');
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'imgs', role: 'imgs', address: '192.0.2.10' });
    expect(JSON.parse((await icbd('hosts', 'list', '--json')).stdout)).toMatchObject([{ name: 'imgs' }]);
    expect(JSON.parse((await icbd('version', '--json')).stdout)).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const audit = await icbd('audit', '--since', '2h', '--json');
    expect(audit).toMatchObject({ code: 0, stderr: '' });
    expect(Array.isArray(JSON.parse(audit.stdout))).toBe(true);
    const forget = await icbd('known-hosts', 'forget', '192.0.2.10', '--json');
    expect(forget).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(forget.stdout)).toEqual({ removed: 0 });
    const cancel = await icbd('cancel', 'deadbeef', '--json');
    expect(cancel).toMatchObject({ code: 1, stdout: '' });
    expect(cancel.stderr).toBe('icbd: There is no transfer deadbeef.\n');
    const lab = await icbd('lab', 'status', '--json');
    expect(lab).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(lab.stdout)).toBeNull();
  });

  it('audit shows local times with their zone, as the window does', async () => {
    await new AuditLog(dirs.home, 'cli').append({ host: 'imgs', action: 'test.entry', result: 'ok', command: 'true' });
    const r = await execFileP('node', ['electron/cli/icbd.mjs', '--home', dirs.home, 'audit'], { env: { ...process.env, TZ: 'America/New_York' } });
    const rows = r.stdout.split('\n').slice(1).filter(Boolean);
    expect(rows.length).toBeGreaterThan(0);
    // Every row (the earlier tests' `icbd exec` is audited too) begins with its local time and zone.
    for (const row of rows) expect(row).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} E[SD]T {2}\S/);
    expect(rows.some((row) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} E[SD]T {2}imgs +test\.entry +ok/.test(row))).toBe(true);
  });
});
