import fs from 'node:fs';
import path from 'node:path';

export interface Problem {
  what: string;
  fix: string;
}

function onPath(cmd: string): boolean {
  const dirs = `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin`.split(':').filter(Boolean);
  return dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const TOOLS: [string, string][] = [
  ['systemd-nspawn', 'systemd-container'],
  ['systemctl', 'systemd'],
  ['debootstrap', 'debootstrap'],
  ['ip', 'iproute2'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['losetup', 'mount'],
  ['mount', 'mount'],
  ['btrfs', 'btrfs-progs'],
  ['tc', 'iproute2'],
  // the site mirror of the lab's hosts (mirror.ts)
  ['apt-cacher-ng', 'apt-cacher-ng'],
];

/** Debian packages the runner needs, for CI scripts and for the fixes below. */
export const RUNNER_PACKAGES = [...new Set(TOOLS.map(([, pkg]) => pkg))];
export const NFS_RUNNER_PACKAGES = ['qemu-system-x86', 'e2fsprogs'];

/** Everything the lab needs from the machine, each missing piece with the command that provides it. */
export function preflight(opts: { nfs?: boolean } = {}): Problem[] {
  const problems: Problem[] = [];
  if (process.platform !== 'linux') return [{ what: `the lab needs Linux (this is ${process.platform})`, fix: 'run it on a Linux machine or VM' }];
  if (process.getuid?.() !== 0) problems.push({ what: 'not root', fix: 'run as root or with sudo' });
  const tools = opts.nfs ? [...TOOLS, ['qemu-system-x86_64', 'qemu-system-x86'] as [string, string], ['mkfs.ext4', 'e2fsprogs'] as [string, string]] : TOOLS;
  for (const [cmd, pkg] of tools) if (!onPath(cmd)) problems.push({ what: `${cmd} not found`, fix: `apt-get install ${pkg}` });
  let filesystems = '';
  try {
    filesystems = fs.readFileSync('/proc/filesystems', 'utf8');
  } catch {
    // reported below as missing filesystems
  }
  for (const f of ['overlay', 'btrfs']) {
    if (!new RegExp(`\\s${f}\\n`).test(filesystems) && !fs.existsSync(`/sys/module/${f}`)) {
      problems.push({ what: `no ${f} filesystem in the kernel`, fix: `modprobe ${f} (or use a kernel with ${f})` });
    }
  }
  if (!fs.existsSync('/dev/btrfs-control')) problems.push({ what: 'no /dev/btrfs-control', fix: 'modprobe btrfs' });
  if (!fs.existsSync('/dev/loop-control')) problems.push({ what: 'no loop devices (/dev/loop-control)', fix: 'modprobe loop (in a container: give it access to loop devices)' });
  if (!fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') && !fs.existsSync('/sys/fs/cgroup/cgroup.procs')) {
    problems.push({ what: 'no cgroup2 hierarchy mounted', fix: 'mount -t cgroup2 none /sys/fs/cgroup/unified' });
  }
  return problems;
}
