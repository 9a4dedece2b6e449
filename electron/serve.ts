import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Core } from './core/core.ts';
import { resolveHome } from './core/paths.ts';
import { openInBrowser } from './serve/open.ts';
import { serve } from './serve/server.ts';

const USAGE = 'usage: npm run serve -- [--port N] [--home DIR] [--open]';
const RENDERER_DIR = fileURLToPath(new URL('../out/renderer', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '7421' }, home: { type: 'string' }, open: { type: 'boolean' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port takes 0 (any free port) to 65535.\n${USAGE}`);
  if (!existsSync(`${RENDERER_DIR}/index.html`)) throw new Error('The renderer is not built: run `npm run build` first.');

  const core = new Core({ home: resolveHome(values.home), door: 'browser' });
  core.open();
  const served = await serve({ core, rendererDir: RENDERER_DIR, port });
  // One line, so a script (or the e2e test) can read the URL from the first line of stdout.
  console.log(`iCBD Console (browser mode): ${served.url}`);
  if (values.open) await openInBrowser(served.url);

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
