import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_DIR_NAME = 'iCBD Console';

/**
 * The data directory shared by all three doors: --home, then ICBD_HOME, then the OS's per-user
 * application data directory (the same folder Electron's userData would be).
 */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (explicit) return resolve(explicit);
  if (env.ICBD_HOME) return resolve(env.ICBD_HOME);
  const home = homedir();
  switch (platform) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_DIR_NAME);
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_DIR_NAME);
  }
}
