import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FSTAB_GENERATOR, SSHD_SNIPPET } from './assets.ts';
import { LabError } from './errors.ts';
import { labEnv, run, sleep } from './exec.ts';
import { mountsUnder, unmountAll } from './host.ts';
import { cacheDir } from './paths.ts';

const SUITE = 'bookworm';

/**
 * What a host has installed before the installer touches it. The guide's services (dnsmasq,
 * apache2, tftpd-hpa, nfs-kernel-server) are present but disabled, as packages from a local
 * repository would be; python3 lets Ansible benchmarks run; zstd is the transfers' compressor.
 * firewalld is there as on the guide's CentOS VMs, disabled until the installer's firewall step
 * starts it. Everything else the installer wants comes through the lab's mirror (mirror.ts).
 */
export const BASE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'iproute2', 'procps', 'openssh-server', 'btrfs-progs',
  'dnsmasq', 'nfs-kernel-server', 'tftpd-hpa', 'apache2', 'python3', 'zstd', 'firewalld', 'iptables',
  // what debootstrap cannot pick among alternatives: firewalld's polkitd needs a logind and a way to add users
  'libpam-systemd', 'adduser',
];

// Units that Debian enables on install. A fresh VM of the guide runs none of the platform's
// services, and the NFS/rpc units fail in a container (no nfsd in the kernel), which would leave
// every host "degraded" instead of "running".
const DISABLED_UNITS = [
  'apache2.service', 'dnsmasq.service', 'tftpd-hpa.service', 'nfs-server.service', 'rpcbind.service',
  'rpcbind.socket', 'nfs-client.target', 'nfs-blkmap.service', 'e2scrub_reap.service', 'systemd-pstore.service',
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer',
  'getty@tty1.service', 'firewalld.service',
];

/** Bump when the recipe below changes, so a stale cached base is never reused. */
const RECIPE = 4;

export interface BaseImage {
  dir: string;
  built: boolean;
  ms: number;
}

export function debianMirror(): string {
  if (process.env.ICBD_LAB_MIRROR) return process.env.ICBD_LAB_MIRROR;
  const candidates: [string, RegExp][] = [
    ['/etc/apt/sources.list.d/debian.sources', /^URIs:\s*(\S+)/m],
    ['/etc/apt/sources.list', /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m],
  ];
  for (const [file, re] of candidates) {
    try {
      const m = re.exec(fs.readFileSync(file, 'utf8'));
      const uri = m?.[1];
      if (uri && !uri.includes('security')) return uri;
    } catch {
      // not configured this way on this machine
    }
  }
  return 'http://deb.debian.org/debian';
}

export function baseKey(extra: string[] = []): string {
  const pkgs = [...new Set([...BASE_PACKAGES, ...extra])].sort();
  return createHash('sha256').update(JSON.stringify({ SUITE, pkgs, RECIPE, FSTAB_GENERATOR, SSHD_SNIPPET })).digest('hex').slice(0, 12);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Returns the cached base root filesystem, building it first if needed. The build happens in a
 * temporary directory renamed into place only when complete, so an interrupted build (killed,
 * out of disk, mirror down) is never mistaken for a base.
 */
export async function ensureBase(opts: {
  extraPackages?: string[];
  onProgress?: (message: string, fraction: number) => void;
  signal?: AbortSignal;
}): Promise<BaseImage> {
  const t0 = Date.now();
  const cache = cacheDir();
  const key = baseKey(opts.extraPackages);
  const final = path.join(cache, `base-${key}`);
  if (fs.existsSync(final)) return { dir: final, built: false, ms: Date.now() - t0 };
  fs.mkdirSync(cache, { recursive: true });
  const lock = `${final}.lock`;
  while (true) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (pid && !alive(pid)) fs.rmSync(lock, { recursive: true, force: true });
      else {
        opts.onProgress?.('another process is building the base image; waiting', 0.05);
        await sleep(1000);
      }
      if (fs.existsSync(final)) return { dir: final, built: false, ms: Date.now() - t0 };
    }
  }
  try {
    for (const old of fs.readdirSync(cache)) {
      if (old.startsWith(`base-${key}.tmp-`)) await removeBuildDir(path.join(cache, old));
    }
    const tmp = `${final}.tmp-${process.pid}`;
    try {
      await debootstrap(tmp, path.join(cache, 'debs'), opts);
    } catch (e) {
      await removeBuildDir(tmp);
      throw e;
    }
    opts.onProgress?.('configuring the base image', 0.95);
    await configureBase(tmp);
    fs.renameSync(tmp, final);
    return { dir: final, built: true, ms: Date.now() - t0 };
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Removes an unfinished build. debootstrap mounts /proc (and may bind /dev) inside its target
 * while it runs; a killed build leaves them mounted, and a recursive delete would walk into the
 * machine's own /proc or /dev. So: unmount first, and refuse if anything stays mounted.
 */
async function removeBuildDir(dir: string): Promise<void> {
  await unmountAll(dir);
  if (mountsUnder(dir).length) {
    throw new LabError(`an interrupted base build still has mounts under ${dir}`, `unmount them (findmnt -R ${dir}), then run \`lab up\` again`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

function debootstrap(
  target: string,
  debs: string,
  opts: { extraPackages?: string[]; onProgress?: (m: string, f: number) => void; signal?: AbortSignal },
): Promise<void> {
  fs.mkdirSync(debs, { recursive: true });
  const mirror = debianMirror();
  const pkgs = [...new Set([...BASE_PACKAGES, ...(opts.extraPackages ?? [])])];
  const args = ['--variant=minbase', `--cache-dir=${debs}`, `--include=${pkgs.join(',')}`, SUITE, target, mirror];
  // debootstrap prints one "I: <phase> <package>" line per step; the phase gives a rough fraction.
  const phases: [RegExp, number, string][] = [
    [/^I: Retriev/, 0.1, 'downloading packages'],
    [/^I: Extract/, 0.4, 'extracting packages'],
    [/^I: (Install|Unpack)/, 0.5, 'installing packages'],
    [/^I: Configur/, 0.7, 'configuring packages'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('debootstrap', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, env: labEnv() });
    const tail: string[] = [];
    let phase = -1;
    const onData = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const i = phases.findIndex(([re]) => re.test(line));
        const hit = phases[i];
        if (hit && i > phase) {
          phase = i;
          opts.onProgress?.(`debootstrap: ${hit[2]} (${mirror})`, hit[1]);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new LabError('debootstrap is not installed', 'apt-get install debootstrap') : e),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new LabError(
            `debootstrap failed (exit ${code}) building the lab's base image:\n${tail.slice(-8).join('\n')}`,
            `check that ${mirror} is reachable (or set ICBD_LAB_MIRROR) and that ${path.dirname(target)} has ~600 MB free`,
          ),
        );
    });
  });
}

async function configureBase(root: string): Promise<void> {
  await run('systemctl', ['--root', root, 'disable', '--quiet', ...DISABLED_UNITS]);
  for (const f of fs.readdirSync(path.join(root, 'etc/ssh'))) {
    // every host gets its own keys; a shared one would make the known_hosts file meaningless
    if (f.startsWith('ssh_host_')) fs.rmSync(path.join(root, 'etc/ssh', f));
  }
  const archives = path.join(root, 'var/cache/apt/archives');
  for (const f of fs.readdirSync(archives)) if (f.endsWith('.deb')) fs.rmSync(path.join(archives, f));
  const write = (rel: string, text: string, mode = 0o644) => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
  };
  write('etc/systemd/system-generators/icbd-lab-fstab', FSTAB_GENERATOR, 0o755);
  write('etc/ssh/sshd_config.d/icbd-lab.conf', SSHD_SNIPPET);
  // debootstrap copies the build machine's files; a host must not carry the runner's identity
  write('etc/hosts', '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n');
  write('etc/resolv.conf', '');
  write('etc/hostname', 'localhost\n');
  write('etc/fstab', '# /etc/fstab: static file system information.\n#\n# <file system> <mount point> <type> <options> <dump> <pass>\n');
  fs.mkdirSync(path.join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
}
