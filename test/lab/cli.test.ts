/**
 * The CLI's push as a person and a script run it, against the demo lab: on a terminal (a real pty)
 * a progress line per running transfer, cut to the width, and Ctrl-C cancels the push, says so,
 * cleans up and exits 130; without a terminal nothing but the result; `transfers --watch --json`
 * as JSON lines. The lab lives in its own directory, so this file can run beside any other lab.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { command } from '../../shared/shell.ts';
import type { TransferRecord } from '../../shared/transfers.ts';
import { inPty, textRuns } from '../pty.ts';
import { replicationLab } from './replication-fixture.ts';
import { labSession } from './session.ts';

const lab = labSession('cli', (core, dir) => replicationLab(core, dir, { caches: 1 }), { timeout: 900_000 });
const { icbd, sh } = lab;
const ROOT = '/var/lib/icbd/.snap';
const WORK = '/var/lib/icbd/shared-vms';
// Narrower than a progress line, so the line has to be cut to fit.
const COLS = 50;

const exists = async (node: string, p: string) => (await sh(node, '[ -e "$1" ] && echo yes || echo no', p)).trim() === 'yes';
const icbdLine = (...args: string[]) => `ICBD_LAB_DIR=${command([lab.dir])} exec ${command(['node', 'electron/cli/icbd.mjs', '--home', lab.home, ...args])}`;

async function until(what: string, check: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('the CLI on the lab', () => {
  it('on a terminal: a progress line cut to the width; Ctrl-C cancels the push, cleans up, exits 130', async () => {
    await lab.core.call('replication.addImage', { node: 'imgs', image: 'big' });
    await sh('imgs', 'head -c 1000M /dev/urandom > "$1/disk.img" && sync', `${WORK}/big`);
    await lab.core.call('replication.snapshot', { image: 'big' });

    const run = inPty(icbdLine('push', 'imgs:big@1', '--to', 'cache01', '--compress', 'none'), { cols: COLS });
    const moving = () => textRuns(run.output()).some((r) => /^big@1 → cache01 {2}running {2}[1-9][\d.]* (KiB|MiB|GiB)/.test(r));
    await until('the push to move bytes', moving);
    run.type('\x03');
    const exit = await run.exit;
    const out = run.output();
    expect(exit, out).toEqual({ code: 130, signal: null });
    expect(out).toContain('Interrupted: cancelling the transfer of big@1 (cleaning up first)...');
    expect(out).toContain('icbd: interrupted: big@1 cancelled; nothing half-written is left on the nodes.');
    const progress = textRuns(out).filter((r) => r.startsWith('big@1 → cache01  '));
    expect(progress.length).toBeGreaterThan(0);
    for (const r of progress) expect([...r].length, r).toBeLessThan(COLS);
    expect(progress.some((r) => r.endsWith('…'))).toBe(true);
    // One transfer, one line: each redraw moves up over that line alone.
    // eslint-disable-next-line no-control-regex -- the escape is what is looked for
    expect(new Set(out.match(/\x1b\[\d+F/g))).toEqual(new Set(['\x1b[1F']));

    expect(await exists('cache01', `${ROOT}/big/1`)).toBe(false);
    const transfers = JSON.parse((await icbd('transfers', '--json')).stdout) as TransferRecord[];
    expect(transfers.map((t) => [t.operation, t.state])).toEqual([['push', 'cancelled']]);
    const actions = async () => JSON.parse((await icbd('audit', '--host', 'cache01', '--json')).stdout).map((e: { action: string; result: string }) => `${e.action}:${e.result}`);
    await expect.poll(actions, { timeout: 30_000 }).toContain('replication.receive:cancelled');
  });

  it('without a terminal: the plan and the result, no progress; transfers --watch --json as JSON lines', async () => {
    const r = await icbd('push', 'imgs:big@1', '--to', 'cache01', '--compress', 'none');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // eslint-disable-next-line no-control-regex -- no escape of a progress line either
    expect(r.stdout).not.toMatch(/ETA|\x1b/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('big@1 done on cache01.');
    expect(await exists('cache01', `${ROOT}/big/1`)).toBe(true);

    const watch = spawn('node', ['electron/cli/icbd.mjs', '--home', lab.home, 'transfers', '--watch', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: TransferRecord[] = [];
    try {
      for await (const line of createInterface({ input: watch.stdout })) {
        lines.push(JSON.parse(line) as TransferRecord);
        if (lines.length === 2) break;
      }
    } finally {
      watch.kill();
    }
    expect(lines.map((t) => t.state).sort()).toEqual(['cancelled', 'done']);
  });

  it('exec --json: the remote output and exit status as one JSON value, the status also as the exit code', async () => {
    const r = await icbd('exec', 'cache01', '--json', '--', 'echo', 'out;', 'echo', 'err', '>&2;', 'exit', '3');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ host: 'cache01', command: 'echo out; echo err >&2; exit 3', code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
  });
});
