import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { BaseSession, type TerminalSession } from './session.ts';

/**
 * A shell on an SSH channel with a pty. Pausing the channel stops ssh2 from extending the SSH
 * window, so the remote program blocks on its own writes instead of the data piling up here.
 * Closing the channel hangs up the pty, which sends SIGHUP to everything in that session.
 */
export function openSshShell(host: string, channel: ClientChannel): TerminalSession {
  const session = new BaseSession('ssh', host, {
    write: (data) => channel.write(data),
    resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
    pause: () => channel.pause(),
    resume: () => channel.resume(),
    close: () => channel.close(),
  });
  // One decoder for both streams would mix them; a pty sends everything on stdout anyway.
  const out = new StringDecoder('utf8');
  const err = new StringDecoder('utf8');
  let code: number | null = null;
  let signal: string | null = null;
  channel.on('data', (b: Buffer) => session.emitData(out.write(b)));
  channel.stderr.on('data', (b: Buffer) => session.emitData(err.write(b)));
  channel.on('exit', (c: number | null, s?: string) => {
    code = c ?? null;
    signal = s ?? null;
  });
  channel.on('close', () => {
    session.emitData(out.end() + err.end());
    session.emitExit({ code, signal });
  });
  return session;
}
