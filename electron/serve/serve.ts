// electron/serve/: the browser-mode door, the core behind a token on 127.0.0.1, plain Node.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Core } from '../core/core.ts';
import { resolveHome } from '../core/util/paths.ts';
import { openInBrowser } from './open.ts';
import { loopbackFor, serve, serveUrl } from './server.ts';
import { serveToken, storedToken } from './token.ts';

const USAGE = `usage: npm run serve -- [--port N] [--home DIR] [--open [--app]] [--new-token]
       npm run serve -- --print-url [--port N] [--home DIR]`;
const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7421' },
      home: { type: 'string' },
      open: { type: 'boolean' },
      app: { type: 'boolean' },
      'new-token': { type: 'boolean' },
      'print-url': { type: 'boolean' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port takes 0 (any free port) to 65535.\n${USAGE}`);
  const home = resolveHome(values.home);
  const host = loopbackFor(home);

  if (values['print-url']) {
    if (port === 0) throw new Error(`--print-url needs the --port the server listens on.\n${USAGE}`);
    const stored = await storedToken(home);
    if (stored.token === undefined) throw new Error(`No token to print: ${stored.why}. Start the server (npm run serve -- --home DIR) and it prints its URL.`);
    console.log(serveUrl(host, port, stored.token));
    return;
  }
  if (!existsSync(`${RENDERER_DIR}/index.html`)) throw new Error('The renderer is not built: run `npm run build` first.');

  const { token, note } = await serveToken(home, { rotate: values['new-token'] ?? false });
  const core = new Core({ home, door: 'browser' });
  core.open();
  const served = await serve({ core, rendererDir: RENDERER_DIR, host, port, token });
  // The URL alone on the first line, so a script (or the e2e test) can read it; then the token's story.
  console.log(`iCBD Console (browser mode): ${served.url}`);
  console.log(note);
  // Not served.url: the browser's arguments are readable by every local user for its whole life.
  if (values.open) await openInBrowser(served.oneTimeUrl(), { app: values.app ?? false });

  const stop = () => {
    void served
      .close()
      .then(() => core.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`icbd serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
