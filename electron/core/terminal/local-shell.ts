import { homedir } from 'node:os';
import { spawn } from '@lydell/node-pty';
import { BaseSession, type TerminalSession } from './session.ts';

export interface LocalShellOptions {
  cols: number;
  rows: number;
  /** Default: $SHELL, else /bin/bash (cmd.exe / PowerShell are the doors' business on Windows). */
  shell?: string;
  args?: string[];
  cwd?: string;
}

/** A shell on the operator's own machine, on a real pty (node-pty, as prebuilt by @lydell/node-pty). */
export function openLocalShell(o: LocalShellOptions): TerminalSession {
  const pty = spawn(o.shell ?? process.env.SHELL ?? '/bin/bash', o.args ?? [], {
    name: 'xterm-256color',
    cols: o.cols,
    rows: o.rows,
    cwd: o.cwd ?? homedir(),
    env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  const session = new BaseSession('local', 'local', {
    write: (data) => pty.write(data),
    resize: (cols, rows) => pty.resize(cols, rows),
    // pause() stops reading the pty master; the kernel's pty buffer fills and the program blocks.
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    close: () => pty.kill('SIGHUP'),
  });
  pty.onData((data) => session.emitData(data));
  pty.onExit(({ exitCode, signal }) => session.emitExit({ code: signal ? null : exitCode, signal: signal ? String(signal) : null }));
  return session;
}
