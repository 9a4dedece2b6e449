import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Chromium-family browsers whose `--app=URL` opens a window of its own, without tabs or address bar. */
const APP_BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge'];

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The command that opens `url`: with `app`, a Chromium's app window where one is installed; else
 * the first of $BROWSER (the xdg convention: commands split by ':', `%s` for the URL), else the
 * system's opener. Whatever it is, every local user can read its arguments in /proc, so the URL
 * must be one that is worth nothing once used (Served.oneTimeUrl).
 */
export function openCommand(url: string, o: { app?: boolean } = {}): [string, string[]] {
  const app = o.app && process.platform === 'linux' ? APP_BROWSERS.map(onPath).find(Boolean) : undefined;
  if (app) return [app, [`--app=${url}`]];
  const browser = process.env.BROWSER?.split(':').find((c) => c.trim());
  if (browser) {
    const [command, ...args] = browser.trim().split(/\s+/);
    return [command!, args.some((a) => a.includes('%s')) ? args.map((a) => a.replaceAll('%s', url)) : [...args, url]];
  }
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/** Opens `url` (see openCommand); false when there is nothing to open it with (a headless server). */
export async function openInBrowser(url: string, o: { app?: boolean } = {}): Promise<boolean> {
  const [command, args] = openCommand(url, o);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', () => {
      console.error(`Could not start ${command}; open the URL above yourself.`);
      resolve(false);
    });
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
