import { openLocalShell } from '../electron/core/terminal/local-shell.ts';
import type { TerminalExit } from '../electron/core/terminal/session.ts';

export interface PtyRun {
  /** Everything the program wrote to the terminal so far, escapes and all. */
  readonly output: () => string;
  /** Typed on the terminal, as a person would (\x03 is Ctrl-C). */
  readonly type: (keys: string) => void;
  readonly exit: Promise<TerminalExit>;
}

/**
 * A shell command line run on a real pty of `cols` columns (the app's own local terminal, node-pty),
 * from the checkout: how a person at a terminal runs the CLI.
 */
export function inPty(commandLine: string, { cols = 80, rows = 24 } = {}): PtyRun {
  const session = openLocalShell({ shell: '/bin/sh', args: ['-c', commandLine], cols, rows, cwd: process.cwd() });
  let output = '';
  session.onData((data) => {
    output += data;
    session.ack(data.length);
  });
  const exit = new Promise<TerminalExit>((resolve) => session.onExit(resolve));
  return { output: () => output, type: (keys) => session.write(keys), exit };
}

/** The runs of text a terminal prints between cursor moves (escapes, \r, \n): one wider than the terminal wraps. */
export function textRuns(raw: string): string[] {
  return raw
    // eslint-disable-next-line no-control-regex -- CSI sequences are what is taken out
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n')
    .split('\n')
    .flatMap((l) => l.split('\r'));
}
