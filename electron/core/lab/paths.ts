import path from 'node:path';

/** Where a lab keeps its state: hosts' private roots, disks, keys, the ssh files. */
export function labDir(dir?: string): string {
  return path.resolve(dir ?? process.env.ICBD_LAB_DIR ?? '/var/lib/icbd-lab');
}

/** Where built base images are kept between labs (reused by every later `up`). */
export function cacheDir(): string {
  return path.resolve(process.env.ICBD_LAB_CACHE ?? '/var/cache/icbd-lab');
}

/** Slot reservations live on tmpfs: a machine reboot frees them together with the namespaces. */
export const SLOT_ROOT = '/run/icbdlab';

export function hostPaths(dir: string, host: string) {
  const root = path.join(dir, 'hosts', host);
  return {
    root,
    upper: path.join(root, 'upper'),
    work: path.join(root, 'work'),
    merged: path.join(root, 'root'),
    disk: path.join(root, 'disk.img'),
    console: path.join(root, 'console.log'),
    hostKey: path.join(root, 'ssh_host_ed25519_key'),
  };
}

export function sshPaths(dir: string) {
  return {
    identity: path.join(dir, 'id_ed25519'),
    config: path.join(dir, 'ssh_config'),
    knownHosts: path.join(dir, 'known_hosts'),
  };
}
