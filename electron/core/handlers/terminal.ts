import type { Terminals } from '../terminal/sessions.ts';
import type { Handlers } from './types.ts';

export function terminalHandlers(terminals: () => Promise<Terminals>): Handlers<'terminal.open' | 'terminal.write' | 'terminal.resize' | 'terminal.ack' | 'terminal.close'> {
  return {
    'terminal.open': async ({ host, cols, rows }) => {
      const t = await terminals();
      return host ? t.openSsh(host, { cols, rows }) : t.openLocal({ cols, rows });
    },
    'terminal.write': async ({ id, data }) => ((await terminals()).write(id, data), {}),
    'terminal.resize': async ({ id, cols, rows }) => ((await terminals()).resize(id, cols, rows), {}),
    'terminal.ack': async ({ id, chars }) => ((await terminals()).ack(id, chars), {}),
    'terminal.close': async ({ id }) => ((await terminals()).close(id), {}),
  };
}
