// Bundles the Node doors for running without the source tree: the Electron main and preload for
// the Electron runtime, and the CLI, which the packages run with the app's own Electron as Node
// (build/linux/icbd). The preload must be one CommonJS file: a sandboxed preload cannot require
// anything but a few Electron modules. Beside the CLI go its bash and zsh completions and its man
// page, generated from the same command table it parses with.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Native modules, loaded from the app's node_modules (unpacked from the asar archive).
  external: ['electron', 'ssh2', '@lydell/node-pty', '@napi-rs/keyring', 'cpu-features'],
};

/** electron/cli/docs.ts, bundled in memory and loaded here, writes the completions and the man page. */
async function cliDocs() {
  const { outputFiles } = await build({ entryPoints: ['electron/cli/docs.ts'], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'warning' });
  const docs = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].contents).toString('base64')}`);
  const { version } = JSON.parse(await readFile('package.json', 'utf8'));
  await mkdir('out/cli/completions', { recursive: true });
  await Promise.all([
    writeFile('out/cli/completions/icbd', docs.bashCompletion()),
    writeFile('out/cli/completions/_icbd', docs.zshCompletion()),
    // mtime 0: the same table gives the same bytes, build after build.
    writeFile('out/cli/icbd.1.gz', gzipSync(docs.manPage(version), { level: 9 })),
  ]);
}

await Promise.all([
  build({ ...common, entryPoints: ['electron/main/main.ts'], outfile: 'out/electron/main/main.cjs' }),
  build({ ...common, entryPoints: ['electron/main/preload.ts'], outfile: 'out/electron/main/preload.cjs' }),
  build({ ...common, entryPoints: ['electron/cli/cli.ts'], outfile: 'out/cli/icbd.cjs' }),
  cliDocs(),
]);
