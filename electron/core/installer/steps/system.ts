import { familyOf, installCommands, kernelWarning, packagesFor, parseOsRelease, servicePackage, SERVICES } from '../../../../shared/distro.ts';
import { editOwned } from '../../../../shared/textfile.ts';
import { SHELL_VARS, shellVarLine } from '../../../../shared/etc-files.ts';
import { cmd, fileChange } from '../changes.ts';
import type { Change, Notice, Step } from '../step.ts';
import { has, type HostState } from '../state.ts';

/** Seconds of clock difference tolerated before the preflight warns. */
export const MAX_SKEW = 5;

/** What must hold before anything is changed; blockers stop the whole install before its first change. */
export function preflightNotices(s: HostState): Notice[] {
  const n: Notice[] = [];
  const block = (message: string) => n.push({ level: 'blocker', message });
  if (s.uid !== 0) block('The installer needs root: log in as root or give the user passwordless sudo.');
  const os = parseOsRelease(s.osRelease);
  const family = familyOf(os);
  if ('unsupported' in family) block(family.unsupported);
  else n.push({ level: 'info', message: `${os.prettyName} (${family.family}).` });
  const kernel = kernelWarning(s.kernel);
  if (kernel) n.push({ level: 'warning', message: kernel });
  if (!s.btrfsInKernel) block(`The kernel ${s.kernel} has no btrfs (RHEL 8 and later removed it); boot a kernel with btrfs first.`);
  for (const c of ['lsblk', 'findmnt', 'systemctl']) if (!has(s, c)) block(`${c} is missing; the installer needs util-linux and systemd.`);
  if (!has(s, 'btrfs')) n.push({ level: 'info', message: 'btrfs-progs is not installed yet; the packages step installs it.' });
  if (!s.findmntVerify) n.push({ level: 'info', message: 'This findmnt has no --verify: /etc/fstab is checked by the installer alone.' });
  if (Math.abs(s.clockSkew) > MAX_SKEW) {
    n.push({ level: 'warning', message: `The host's clock is ${s.clockSkew} s off this computer's; the time service enabled by the services step corrects it.` });
  }
  if (s.selinux) n.push({ level: 'info', message: `SELinux: ${s.selinux}.` });
  return n;
}

export const preflight: Step = {
  id: 'preflight',
  title: 'Preflight',
  plan: (ctx) => ({ changes: [], notices: preflightNotices(ctx.state) }),
};

export const packages: Step = {
  id: 'packages',
  title: 'Packages',
  plan: ({ state, family }) => {
    const missing = packagesFor(family).filter((p) => !state.packages.includes(p.name));
    if (missing.length === 0) return { changes: [] };
    // EPEL packages resolve only once epel-release has added the repository
    const epelFirst = missing.some((p) => p.epel) && missing.some((p) => p.name === 'epel-release');
    const groups = epelFirst ? [['epel-release'], missing.filter((p) => p.name !== 'epel-release').map((p) => p.name)] : [missing.map((p) => p.name)];
    const changes = groups.flatMap((names) => installCommands(family, names).map((argv) => cmd(`Install ${names.join(', ')}`, argv)));
    const notices: Notice[] = epelFirst ? [{ level: 'info', message: 'On RHEL itself (not Rocky/Alma) epel-release is not in the base repositories; install it from fedoraproject.org first.' }] : [];
    if (state.packageSource && !state.packageSource.reachable) {
      notices.push({
        level: 'blocker',
        message:
          `No package source answers from this host (${state.packageSource.detail}), so ${missing.map((p) => p.name).join(', ')} cannot be installed. ` +
          'Give the host a reachable mirror (sources.list) or proxy (Acquire::http::Proxy in /etc/apt/apt.conf.d/), or install these packages by hand, then plan again.',
      });
    }
    return { changes, notices };
  },
};

const SELINUX_CONFIG = '/etc/selinux/config';

/** Annex 2 "Disable SELinux": permissive, live and at boot (the guide edits /etc/sysconfig/selinux, a symlink to this file on EL 7). */
export const selinux: Step = {
  id: 'selinux',
  title: 'SELinux',
  plan: ({ state }) => {
    const config = state.files[SELINUX_CONFIG];
    const changes: Change[] = [];
    const notices: Notice[] = [];
    if (config !== undefined && /^\s*SELINUX=enforcing\s*$/m.test(config)) {
      changes.push(...fileChange('Set SELinux to permissive at boot', { path: SELINUX_CONFIG, inPlace: false }, config, editOwned(config, SHELL_VARS, [shellVarLine('SELINUX', 'permissive')])));
      notices.push({ level: 'warning', message: 'SELinux was enforcing: it is permissive now and from the next boot on; reboot when the install is done.' });
    }
    if (state.selinux === 'Enforcing') changes.push(cmd('Switch SELinux to permissive now', ['setenforce', '0']));
    return { changes, notices };
  },
};

// systemctl's words for a unit that starts at boot (static/indirect units are pulled in by others).
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias']);

/**
 * Annex 2's start/enable lists: enabled and running, with every unit that does not exist reported.
 * A unit that cannot run on this host is enabled (it starts on a kernel that has what it needs)
 * and reported instead of started again and again: nfs-server where the kernel has no nfsd, and
 * any unit whose Condition…= systemd found unmet (chrony without CAP_SYS_TIME in a container).
 */
export const services: Step = {
  id: 'services',
  title: 'Services',
  plan: ({ state, family, spec }) => {
    const notices: Notice[] = [];
    const enable: string[] = [];
    const start: string[] = [];
    for (const service of spec.services) {
      const unit = SERVICES[service].unit[family];
      const pkg = servicePackage(service, family);
      const u = state.units[unit];
      if (!u || u.loadState === 'not-found') {
        if (pkg && !state.packages.includes(pkg)) {
          notices.push({ level: 'info', message: `${unit} comes with ${pkg}, which the packages step installs.` });
        } else {
          notices.push({ level: 'blocker', message: `The unit ${unit} (${service} in the guide) does not exist on this host${pkg ? ` although ${pkg} is installed` : ''}.` });
          continue;
        }
      }
      if (!u || !ENABLED.has(u.unitFileState)) enable.push(unit);
      if (u?.activeState === 'active') continue;
      if (u?.socketActive) {
        notices.push({ level: 'info', message: `${unit} is started on demand by its socket, which listens; it may stop itself when idle.` });
        continue;
      }
      if (service === 'nfs-server' && !state.nfsd) {
        notices.push({ level: 'warning', message: `${unit} is enabled but cannot run here: this kernel has no NFS server (nfsd), as in a container.` });
      } else if (u?.conditionResult === 'no') {
        notices.push({ level: 'warning', message: `${unit} is enabled but does not run here: systemd found its start conditions unmet (systemctl status ${unit} names the one).` });
      } else start.push(unit);
    }
    const changes = [
      ...(enable.length ? [cmd(`Enable ${enable.join(', ')} at boot`, ['systemctl', 'enable', ...enable])] : []),
      ...(start.length ? [cmd(`Start ${start.join(', ')}`, ['systemctl', 'start', ...start])] : []),
    ];
    return { changes, notices };
  },
};
