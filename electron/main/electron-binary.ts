import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** node_modules/electron, found the way Node would find it from here. */
export function electronPackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
}

/**
 * The Electron executable, or undefined when it is not installed. Reads what the electron package
 * reads (path.txt, ELECTRON_OVERRIDE_DIST_PATH) without require('electron'), which downloads the
 * binary when it is missing, with no time limit.
 */
export function electronBinary(dir = electronPackageDir(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  let relative = '';
  try {
    relative = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    // not installed yet
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const path = override ? join(override, relative || 'electron') : relative ? join(dir, 'dist', relative) : undefined;
  return path && existsSync(path) ? path : undefined;
}

const NETWORK_FAILURE = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|socket hang up/;

/** The first line of an installer's error output, short enough for a one-line message. */
export function shortReason(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!line) return '';
  const text = line.replace(/^Error:\s*/, '');
  const short = text.length > 100 ? `${text.slice(0, 99)}…` : text;
  return NETWORK_FAILURE.test(text) ? `could not reach the download server: ${short}` : short;
}

export type InstallResult = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Runs the electron package's own installer (the postinstall step that `npm ci` skips here) once,
 * quietly, and gives up after `timeoutMs`.
 */
export function installElectron(dir = electronPackageDir(), timeoutMs = 60_000): Promise<InstallResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'install.js')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const path = electronBinary(dir);
      if (path) return resolve({ ok: true, path });
      const reason = timedOut ? `no download within ${Math.ceil(timeoutMs / 1000)} s` : shortReason(stderr) || `the installer exited with code ${code}`;
      resolve({ ok: false, reason });
    });
  });
}

/** Whether a window can be shown at all: macOS and Windows always, elsewhere only with an X or Wayland display. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
