import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { electronBinary, hasDisplay, installElectron } from './electron-binary.ts';

/**
 * `npm start`: the Electron window when Electron's binary is there (or can be fetched now), browser
 * mode otherwise. `--fetch-only` (used by `npm run dist`) only makes sure the binary is there.
 */
const USAGE = 'usage: tsx electron/main/start.ts [--fetch-only]';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVE = fileURLToPath(new URL('../serve/serve.ts', import.meta.url));

async function ensureElectron(): Promise<{ path?: string; reason?: string }> {
  const installed = electronBinary();
  if (installed) return { path: installed };
  const result = await installElectron();
  return result.ok ? { path: result.path } : { reason: result.reason };
}

/** Exits with the child's status once it ends; the child owns the terminal until then. */
function follow(child: ChildProcess): void {
  // Ctrl+C reaches the child straight from the terminal; a SIGTERM sent to us alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.once('error', (err) => {
    console.error(`Could not start ${child.spawnfile}: ${err.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 + constants.signals[signal] : 1)));
}

function electron(binary: string): ChildProcess {
  // ELECTRON_RUN_AS_NODE in the caller's environment would turn the app into a plain node.
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  return spawn(binary, [ROOT], { stdio: 'inherit', env });
}

function browserMode(): ChildProcess {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  // An app window, as close to the Electron one as a browser gets, where a Chromium is installed.
  return spawn(process.execPath, [tsx, SERVE, ...(hasDisplay() ? ['--open', '--app'] : [])], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'fetch-only': { type: 'boolean' } }, strict: true });
  const { path, reason } = await ensureElectron();

  if (values['fetch-only']) {
    if (path) return console.log(`Electron's binary: ${path}`);
    console.error(
      `Electron's binary is not installed and could not be downloaded (${reason}). Packaging needs it: run this on a machine that reaches Electron's downloads, or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron.`,
    );
    process.exit(1);
  }

  if (path && hasDisplay()) return follow(electron(path));
  if (path) console.error("No display ($DISPLAY and $WAYLAND_DISPLAY are unset), so no window can open; running browser mode instead.");
  else console.error(`Electron's binary is not installed and could not be downloaded (${reason}); running browser mode instead.`);
  follow(browserMode());
}

main().catch((err: unknown) => {
  console.error(`icbd start: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(1);
});
