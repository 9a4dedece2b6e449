/** A shell on the operator's machine, on a real pty (@lydell/node-pty's prebuilt binary). */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openLocalShell } from '../../electron/core/terminal/local-shell.ts';

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('local terminal', () => {
  it('runs a shell on a pty of the given size, follows a resize, and reports the exit code', async () => {
    const t = openLocalShell({ cols: 100, rows: 30, shell: '/bin/sh' });
    let screen = '';
    let exit: { code: number | null; signal: string | null } | undefined;
    t.onData((d) => {
      screen += d;
      t.ack(d.length);
    });
    t.onExit((e) => (exit = e));
    t.write('tty; echo "size: $(stty size)"; echo "term: $TERM"\n');
    await until('the first answers', () => /size: \d+ \d+/.test(screen));
    expect(screen).toMatch(/\/dev\/pts\/\d+/);
    expect(screen).toContain('size: 30 100');
    expect(screen).toContain('term: xterm-256color');
    t.resize(132, 43);
    t.write('echo "now: $(stty size)"; exit 3\n');
    await until('the exit', () => exit !== undefined);
    expect(screen).toContain('now: 43 132');
    expect(exit).toEqual({ code: 3, signal: null });
  });
});
