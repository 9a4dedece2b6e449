// Bundles the Electron doors (main, preload) for the Electron runtime. The preload must be one
// CommonJS file: a sandboxed preload cannot require anything but a few Electron modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['electron', 'ssh2', '@lydell/node-pty', '@napi-rs/keyring', 'cpu-features'],
};

await Promise.all([
  build({ ...common, entryPoints: ['electron/main/main.ts'], outfile: 'out/electron/main/main.cjs' }),
  build({ ...common, entryPoints: ['electron/main/preload.ts'], outfile: 'out/electron/main/preload.cjs' }),
]);
