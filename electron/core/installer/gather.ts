import { randomBytes } from 'node:crypto';
import { FAMILIES, mapPath, packagesFor, SERVICES } from '../../../shared/distro.ts';
import { resolveBinds } from '../../../shared/fstab.ts';
import { AppError } from '../../../shared/errors.ts';
import { roleEntries, ROLES, VAR_LIB } from '../../../shared/roles.ts';
import { quote } from '../../../shared/shell.ts';
import { runChecked, type Remote } from '../remote/host.ts';
import type { InstallInput } from './step.ts';
import { parseAddresses, parseDevices, parseMounts, parsePaths, parseUnits, withEnabled, withMounts, withSockets, type HostState } from './state.ts';
import { FORWARD_POLICY } from './steps/firewall.ts';
import { TOP } from './steps/lib.ts';

/**
 * One round trip reads everything every step needs: a shell script on stdin prints sections
 * separated by a random marker, parsed here into a HostState. Ansible spends ≈ 8 s on a no-op run
 * of the cache role because it pays an SSH round trip per module call (LAB-NOTES); this pays one.
 * The script only reads; the family is not known before it runs, so it asks for the names of
 * every family at once (a few more arguments to stat and systemctl cost nothing).
 */

export const FILES = [
  '/etc/fstab',
  '/etc/hosts',
  '/etc/sysctl.conf',
  '/etc/exports',
  '/etc/selinux/config',
  '/root/.ssh/authorized_keys',
  '/root/.ssh/known_hosts',
  '/root/.ssh/id_ed25519.pub',
  '/etc/ssh/ssh_host_ed25519_key.pub',
];

const COMMANDS = ['btrfs', 'mkfs.btrfs', 'findmnt', 'lsblk', 'systemctl', 'firewall-cmd', 'getenforce', 'setenforce', 'exportfs', 'ssh-keygen', 'apt-get', 'dnf', 'yum'];

export interface Probe {
  files: string[];
  paths: string[];
  units: string[];
  debPackages: string[];
  rpmPackages: string[];
  dirs: string[];
  firewall: boolean;
}

export function probeFor(input: Pick<InstallInput, 'role'>): Probe {
  const spec = ROLES[input.role];
  const layout = spec.layout.flatMap((l) => (l.kind === 'subvolume' && l.seedFrom ? [l.path, l.seedFrom] : [l.path]));
  // mount points as every family spells them, and where they live inside enclosing binds (mounts.ts)
  const mounts = FAMILIES.flatMap((f) => {
    const entries = roleEntries(spec, 'probe', (p) => mapPath(f, p), { nfs: true });
    return entries.flatMap((e) => [...(e.source.startsWith('/') ? [e.source] : []), e.target, resolveBinds(e.target, entries)]);
  });
  const services = spec.services.flatMap((s) => Object.values(SERVICES[s].unit));
  return {
    files: [...FILES, ...spec.mounts.flatMap((m) => (m.kind === 'bind' && m.file ? [m.source] : []))],
    paths: [...new Set([VAR_LIB, TOP, '/root/.ssh', ...layout, ...mounts])],
    units: [...new Set(services)],
    debPackages: packagesFor('debian').map((p) => p.name),
    rpmPackages: [...new Set([...packagesFor('el7'), ...packagesFor('el8'), ...packagesFor('el9')].map((p) => p.name))],
    dirs: spec.layout.flatMap((l) => (l.kind === 'subvolume' && l.seedFrom ? [l.seedFrom] : [])),
    firewall: spec.firewall !== undefined,
  };
}

const words = (list: readonly string[]) => list.map(quote).join(' ');

export function gatherScript(p: Probe, nonce: string): string {
  const lines = [
    `N=${quote(nonce)}`,
    `s() { printf '\\n--%s %s\\n' "$N" "$1"; }`,
    's uid; id -u',
    's os-release; cat /etc/os-release 2>/dev/null',
    's kernel; uname -r',
    's time; date +%s',
    `s commands; for c in ${words(COMMANDS)}; do command -v "$c" >/dev/null 2>&1 && echo "$c"; done`,
    's btrfs-kernel; { grep -qw btrfs /proc/filesystems || modinfo btrfs; } >/dev/null 2>&1 && echo yes',
    's findmnt-verify; findmnt --help 2>/dev/null | grep -q -- --verify && echo yes',
    // a container shares its host's kernel, which may have neither (LAB-NOTES)
    's nfs-kernel; { grep -qw nfsd /proc/filesystems || modinfo nfsd; } >/dev/null 2>&1 && echo nfsd;' +
      ' { grep -qw nfs4 /proc/filesystems || modinfo nfsv4; } >/dev/null 2>&1 && echo nfs4',
    // PTTYPE is missing from CentOS 7's lsblk (util-linux 2.23); the second form is for it
    's lsblk; lsblk -P -b -o NAME,KNAME,PKNAME,TYPE,SIZE,RO,FSTYPE,LABEL,UUID,PTTYPE,MOUNTPOINT,MAJ:MIN 2>/dev/null ||' +
      ' lsblk -P -b -o NAME,KNAME,PKNAME,TYPE,SIZE,RO,FSTYPE,LABEL,UUID,MOUNTPOINT,MAJ:MIN 2>/dev/null',
    // [ -b ] stats each node: find -type b trusts readdir's type, which calls a device bind-mounted
    // over a placeholder file (nspawn's --bind, the lab's /dev/vdb) a regular file
    "s devnodes; for f in /dev/*; do [ -b \"$f\" ] && stat -c '%n %t %T' -- \"$f\"; done 2>/dev/null",
    // lsblk takes signatures from udev's database; without udev (a container) it reports none, so
    // every node is probed for what is on it, the safety check of mkfs depends on it
    's blkid; for f in /dev/*; do [ -b "$f" ] && blkid -p -o export -- "$f" 2>/dev/null && echo; done',
    's findmnt; findmnt -P -o TARGET,SOURCE,FSTYPE,FSROOT,OPTIONS,UUID 2>/dev/null',
    ...p.files.map((f) => `s ${quote(`file ${f}`)}; if [ -f ${quote(f)} ]; then printf y; cat ${quote(f)}; fi`),
    `s stat; stat -c '%n|%F|%d|%i' -- ${words(p.paths)} 2>/dev/null`,
    `s statfs; stat -f -c '%n|%T' -- ${words(p.paths)} 2>/dev/null`,
    ...p.dirs.map((d) => `s ${quote(`dir ${d}`)}; ls -A ${quote(d)} 2>/dev/null`),
    `s units; systemctl show -p Id,LoadState,ActiveState,UnitFileState,ConditionResult,ConditionTimestampMonotonic -- ${words(p.units)} 2>/dev/null`,
    // a SysV script's generated unit (Debian's tftpd-hpa) shows UnitFileState=generated whether or
    // not it starts at boot; is-enabled asks its rc links
    `s is-enabled; for u in ${words(p.units)}; do printf '%s ' "$u"; systemctl is-enabled -- "$u" 2>/dev/null || echo; done`,
    // TriggeredBy= needs systemd ≥ 243; older ones print nothing, and the unit must be active itself
    `s triggers; for u in ${words(p.units)}; do for t in $(systemctl show -p TriggeredBy --value -- "$u" 2>/dev/null); do echo "$u $t $(systemctl is-active -- "$t" 2>/dev/null)"; done; done`,
    "s packages; if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' " +
      `${words(p.debPackages)} 2>/dev/null; elif command -v rpm >/dev/null 2>&1; then rpm -q --qf '%{NAME} ii\\n' ${words(p.rpmPackages)} 2>/dev/null; fi`,
    // one index file fetched as apt would (its proxy and sources), into a temporary file: the
    // plan must know before any change whether missing packages can be installed at all
    's package-source; if command -v apt-get >/dev/null 2>&1 && [ -x /usr/lib/apt/apt-helper ]; then' +
      ` u=$(apt-get update --print-uris 2>/dev/null | sed -n "s/^'\\([^']*\\)'.*/\\1/p" | head -n 1); t=$(mktemp -d);` +
      ' if [ -z "$u" ]; then echo "fail no package source is configured (apt-get update --print-uris lists none)";' +
      ' elif timeout 15 /usr/lib/apt/apt-helper -o Acquire::Retries=0 download-file "$u" "$t/f" >"$t/log" 2>&1; then echo ok;' +
      // apt's reason is the indented line under "Err:1 URL" (resolving, connect refused, 403 …)
      ' else echo "fail $u: $(sed -n \'/^Err/{n;s/^ *//;p;q;}\' "$t/log")"; fi; rm -rf "$t"; fi',
    's ip-forward; cat /proc/sys/net/ipv4/ip_forward 2>/dev/null',
    // a container's /proc/sys is read-only (LAB-NOTES): values can be persisted, not set live
    's proc-sys; [ -w /proc/sys/net/ipv4/ip_forward ] && echo rw',
    's selinux; command -v getenforce >/dev/null 2>&1 && getenforce',
    's addresses; ip -o -4 addr show 2>/dev/null',
    's route; ip -4 route show default 2>/dev/null',
  ];
  if (p.firewall) {
    lines.push(
      'if command -v firewall-cmd >/dev/null 2>&1; then',
      's fw-state; firewall-cmd --state 2>/dev/null',
      's fw-services; firewall-cmd --get-services 2>/dev/null',
      's fw-zone-services; firewall-cmd --permanent --zone=internal --list-services 2>/dev/null',
      's fw-masquerade; firewall-cmd --permanent --zone=internal --query-masquerade 2>/dev/null',
      's fw-direct; firewall-cmd --permanent --direct --get-all-rules 2>/dev/null',
      's fw-interfaces; firewall-cmd --permanent --zone=internal --list-interfaces 2>/dev/null',
      's fw-version; firewall-cmd --version 2>/dev/null',
      `ext=$(ip -4 route show default 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n 1)`,
      's fw-ext-zone; [ -n "$ext" ] && firewall-cmd --permanent --get-zone-of-interface="$ext" 2>/dev/null',
      "s fw-default-zone; sed -n 's/^DefaultZone=//p' /etc/firewalld/firewalld.conf 2>/dev/null",
      `s fw-policy; firewall-cmd --permanent --info-policy=${FORWARD_POLICY} 2>/dev/null`,
      'fi',
    );
  }
  lines.push('s end; true');
  return lines.join('\n') + '\n';
}

/** `firewall-cmd --info-policy` lines: "  target: ACCEPT", "  ingress-zones: internal" … */
function parsePolicy(text: string): { target: string; ingress: string[]; egress: string[] } {
  const field = (name: string) => new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const list = (name: string) => field(name).split(/\s+/).filter(Boolean);
  return { target: field('target'), ingress: list('ingress-zones'), egress: list('egress-zones') };
}

export function parseSections(out: string, nonce: string): Map<string, string> {
  const marker = `\n--${nonce} `;
  const sections = new Map<string, string>();
  for (const chunk of out.split(marker).slice(1)) {
    const nl = chunk.indexOf('\n');
    sections.set(chunk.slice(0, nl), chunk.slice(nl + 1));
  }
  return sections;
}

export function parseGather(out: string, nonce: string, probe: Probe, localMidpointMs: number): HostState {
  const sec = parseSections(out, nonce);
  if (!sec.has('end')) throw new AppError('REMOTE_FAILED', 'The host state could not be read completely.', { output: out.slice(-2000) });
  const get = (name: string) => sec.get(name) ?? '';
  const line = (name: string) => get(name).trim();
  const files: Record<string, string> = {};
  for (const f of probe.files) {
    const body = sec.get(`file ${f}`);
    if (body?.startsWith('y')) files[f] = body.slice(1);
  }
  const words = (name: string) => line(name).split(/\s+/).filter(Boolean);
  const route = /\bdev\s+(\S+)/.exec(get('route'));
  const mounts = parseMounts(get('findmnt'));
  return {
    uid: Number.parseInt(line('uid'), 10),
    osRelease: get('os-release'),
    kernel: line('kernel'),
    clockSkew: Number.parseInt(line('time'), 10) - Math.round(localMidpointMs / 1000),
    commands: words('commands'),
    btrfsInKernel: line('btrfs-kernel') === 'yes',
    findmntVerify: line('findmnt-verify') === 'yes',
    nfsd: words('nfs-kernel').includes('nfsd'),
    nfsClient: words('nfs-kernel').includes('nfs4'),
    devices: withMounts(parseDevices(get('lsblk'), get('devnodes'), get('blkid')), mounts),
    mounts,
    files,
    paths: parsePaths(get('stat'), get('statfs')),
    dirEntries: Object.fromEntries(probe.dirs.map((d) => [d, get(`dir ${d}`).split('\n').filter(Boolean)])),
    units: withSockets(withEnabled(parseUnits(get('units'), probe.units), get('is-enabled')), get('triggers')),
    packages: get('packages')
      .split('\n')
      .flatMap((l) => (/^\S+ ii/.test(l) ? [l.split(' ')[0]!] : [])),
    ...(line('package-source') ? { packageSource: { reachable: line('package-source') === 'ok', detail: line('package-source').replace(/^fail /, '') } } : {}),
    ipForward: line('ip-forward'),
    procSysWritable: line('proc-sys') === 'rw',
    ...(line('selinux') ? { selinux: line('selinux') } : {}),
    ...(sec.has('fw-state')
      ? {
          firewall: {
            running: line('fw-state') === 'running',
            available: words('fw-services'),
            zoneServices: words('fw-zone-services'),
            masquerade: line('fw-masquerade') === 'yes',
            directRules: get('fw-direct')
              .split('\n')
              .map((l) => l.trim().split(/\s+/).join(' '))
              .filter(Boolean),
            zoneInterfaces: words('fw-interfaces'),
            version: line('fw-version'),
            extZone: line('fw-ext-zone') === 'no zone' ? '' : line('fw-ext-zone'),
            defaultZone: line('fw-default-zone') || 'public',
            ...(line('fw-policy') ? { policy: parsePolicy(get('fw-policy')) } : {}),
          },
        }
      : {}),
    addresses: parseAddresses(get('addresses')),
    ...(route ? { defaultRouteIf: route[1]! } : {}),
  };
}

/** Reads the host's state in one round trip. */
export async function gather(remote: Remote, input: Pick<InstallInput, 'role'>, now: () => number = Date.now, signal?: AbortSignal): Promise<HostState> {
  const probe = probeFor(input);
  const nonce = randomBytes(9).toString('hex');
  const before = now();
  const { stdout } = await runChecked(remote, ['sh', '-s'], { stdin: gatherScript(probe, nonce), timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  return parseGather(stdout, nonce, probe, (before + now()) / 2);
}
