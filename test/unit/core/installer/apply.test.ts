import { describe, expect, it } from 'vitest';
import { applyChanges, type AuditEntry } from '../../../../electron/core/installer/apply.ts';
import { gatherScript, parseGather, probeFor } from '../../../../electron/core/installer/gather.ts';
import type { Remote, RunResult } from '../../../../electron/core/remote/host.ts';
import { checkHost, install } from '../../../../electron/core/installer/runner.ts';
import type { Change } from '../../../../electron/core/installer/step.ts';
import { AppError } from '../../../../shared/errors.ts';
import { input, OS_RELEASE, PRISTINE_FSTAB } from '../../../fixtures/installer.ts';

const NOW = Date.UTC(2024, 0, 31, 14, 25, 30);
const OLD = PRISTINE_FSTAB;
const NEW = OLD + '/var/lib/icbd/mounts/etc/hosts\t/etc/hosts\tnone\tbind\t0 0\n';

/** A host that answers each command from `answer`, remembering every argv and stdin. */
function fakeHost(answer: (argv: readonly string[], stdin?: string) => Partial<RunResult> | undefined) {
  const calls: { argv: string[]; stdin?: string }[] = [];
  const remote: Remote = {
    run: async (argv, opts) => {
      calls.push({ argv: [...argv], ...(opts?.stdin !== undefined ? { stdin: opts.stdin } : {}) });
      return { code: 0, stdout: '', stderr: '', ...answer(argv, opts?.stdin) };
    },
  };
  return { remote, calls };
}

const fstabChange: Change = { kind: 'file', summary: 'fstab', path: '/etc/fstab', before: OLD, after: NEW, diff: '(diff)', inPlace: false, fstab: true };
const mount = (t: string): Change => ({ kind: 'command', summary: `Mount ${t}`, argv: ['mount', t], undo: ['umount', t] });

function ctx(remote: Remote, audit: AuditEntry[], findmntVerify = true) {
  return { remote, host: 'cache01', step: 'mounts' as const, audit: (e: AuditEntry) => void audit.push(e), now: () => NOW, findmntVerify };
}

describe('applying a step', () => {
  it('checks the new fstab with findmnt before it replaces the old, keeps a timestamped backup, reloads systemd', async () => {
    const { remote, calls } = fakeHost((argv) => (argv[0] === 'cat' ? { stdout: OLD } : undefined));
    const audit: AuditEntry[] = [];
    await applyChanges(ctx(remote, audit), [fstabChange, mount('/etc/hosts')]);
    expect(calls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual([
      'cat -- /etc/fstab',
      'cp -a --',
      'sh -c set -e; t="$1.icbd-new"; cat > "$t"; if [ -e "$1" ]; then chmod --reference="$1" "$t"; chown --reference="$1" "$t"; else chmod "$2" "$t"; fi',
      'findmnt --verify --tab-file',
      'mv -f --',
      'systemctl daemon-reload',
      'mount /etc/hosts',
    ]);
    expect(calls[1]!.argv).toEqual(['cp', '-a', '--', '/etc/fstab', '/etc/fstab.icbd-20240131-142530']);
    expect(calls[2]!.stdin).toBe(NEW);
    expect(calls[3]!.argv).toEqual(['findmnt', '--verify', '--tab-file', '/etc/fstab.icbd-new']);
    expect(audit.map((a) => [a.summary, a.result, a.command ?? a.path])).toEqual([
      ['fstab', 'ok', '/etc/fstab'],
      ['Mount /etc/hosts', 'ok', 'mount /etc/hosts'],
    ]);
    expect(audit[0]).toMatchObject({ at: '2024-01-31T14:25:30.000Z', host: 'cache01', step: 'mounts', diff: '(diff)', backup: '/etc/fstab.icbd-20240131-142530' });
  });

  it('a failing mount restores the old fstab and unmounts what it had mounted', async () => {
    const { remote, calls } = fakeHost((argv) => {
      if (argv[0] === 'cat') return { stdout: OLD };
      if (argv.join(' ') === 'mount /etc/exports') return { code: 32, stderr: 'mount: /etc/exports: special device /var/lib/icbd/mounts/etc/exports does not exist.' };
      return undefined;
    });
    const audit: AuditEntry[] = [];
    const error = await applyChanges(ctx(remote, audit), [fstabChange, mount('/etc/hosts'), mount('/etc/exports')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/^mount \/etc\/exports failed \(exit 32\): mount: \/etc\/exports: special device/);
    const after = calls.slice(calls.findIndex((c) => c.argv.join(' ') === 'mount /etc/exports') + 1);
    expect(after.map((c) => c.argv.slice(0, 2).join(' '))).toEqual(['umount /etc/hosts', 'sh -c', 'mv -f', 'systemctl daemon-reload']);
    expect(after[1]!.stdin).toBe(OLD);
    expect(audit.map((a) => [a.summary, a.result])).toEqual([
      ['fstab', 'ok'],
      ['Mount /etc/hosts', 'ok'],
      ['Mount /etc/exports', 'failed'],
      ['Undo: Mount /etc/hosts', 'undone'],
      ['Undo: fstab', 'undone'],
    ]);
  });

  it('findmnt --verify refusing the new file leaves the old one untouched', async () => {
    const { remote, calls } = fakeHost((argv) => {
      if (argv[0] === 'cat') return { stdout: OLD };
      if (argv[0] === 'findmnt') return { code: 1, stdout: '[E] unreachable on boot required target: No such file or directory' };
      return undefined;
    });
    const audit: AuditEntry[] = [];
    await expect(applyChanges(ctx(remote, audit), [fstabChange, mount('/etc/hosts')])).rejects.toThrow(/findmnt --verify rejects the new \/etc\/fstab: \[E\] unreachable/);
    expect(calls.some((c) => c.argv[0] === 'mv' || c.argv[0] === 'mount')).toBe(false);
    expect(calls.at(-1)!.argv).toEqual(['rm', '-f', '--', '/etc/fstab.icbd-new']);
    expect(audit.map((a) => a.result)).toEqual(['failed']);
  });

  it('without findmnt --verify (CentOS 7) the file is written after the own checks of the plan', async () => {
    const { remote, calls } = fakeHost((argv) => (argv[0] === 'cat' ? { stdout: OLD } : undefined));
    await applyChanges(ctx(remote, [], false), [fstabChange]);
    expect(calls.some((c) => c.argv[0] === 'findmnt')).toBe(false);
  });

  it('refuses to overwrite a file that changed since it was read', async () => {
    const { remote, calls } = fakeHost((argv) => (argv[0] === 'cat' ? { stdout: OLD + '# edited meanwhile\n' } : undefined));
    await expect(applyChanges(ctx(remote, []), [fstabChange])).rejects.toThrow(/changed since it was read/);
    expect(calls).toHaveLength(1);
  });

  it('writes a bind-mounted file in place, with its backup beside the source', async () => {
    const { remote, calls } = fakeHost((argv) => (argv[0] === 'cat' ? { stdout: 'a\n' } : undefined));
    const change: Change = { kind: 'file', summary: 'hosts', path: '/var/lib/icbd/mounts/etc/hosts', before: 'a\n', after: 'a\nb\n', diff: '', inPlace: true };
    await applyChanges(ctx(remote, []), [change]);
    expect(calls.slice(1).map((c) => c.argv)).toEqual([
      ['cp', '-a', '--', '/var/lib/icbd/mounts/etc/hosts', '/var/lib/icbd/mounts/etc/hosts.icbd-20240131-142530'],
      ['sh', '-c', 'cat > "$1"', 'sh', '/var/lib/icbd/mounts/etc/hosts'],
    ]);
    expect(calls.some((c) => c.argv[0] === 'mv')).toBe(false);
  });

  it('runs a guarded command only when its probe says so, and audits the skip', async () => {
    const { remote, calls } = fakeHost((argv) => (argv[0] === 'test' ? { code: 1 } : undefined));
    const audit: AuditEntry[] = [];
    await applyChanges(ctx(remote, audit), [{ kind: 'command', summary: 'leftover', argv: ['btrfs', 'subvolume', 'delete', '/x'], onlyIf: ['test', '-e', '/x'] }]);
    expect(calls.map((c) => c.argv[0])).toEqual(['test']);
    expect(audit[0]).toMatchObject({ result: 'skipped', command: 'btrfs subvolume delete /x' });
  });
});

/** What the gather script prints on a pristine Debian host, section by section. */
function gatherOutput(nonce: string, sections: Record<string, string>): string {
  return Object.entries(sections)
    .map(([name, body]) => `\n--${nonce} ${name}\n${body}`)
    .join('');
}

const PRISTINE_SECTIONS = {
  uid: '0\n',
  'os-release': OS_RELEASE.debian,
  kernel: '6.1.0-18-amd64\n',
  time: `${NOW / 1000 + 3}\n`,
  commands: 'findmnt\nlsblk\nsystemctl\nssh-keygen\napt-get\n',
  'btrfs-kernel': 'yes\n',
  'findmnt-verify': 'yes\n',
  'nfs-kernel': 'nfsd\nnfs4\n',
  lsblk:
    'NAME="vda" KNAME="vda" PKNAME="" TYPE="disk" SIZE="17179869184" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="dos" MOUNTPOINT="" MAJ_MIN="254:0"\n' +
    'NAME="vda1" KNAME="vda1" PKNAME="vda" TYPE="part" SIZE="17178820608" RO="0" FSTYPE="ext4" LABEL="" UUID="0a1b" PTTYPE="dos" MOUNTPOINT="/" MAJ_MIN="254:1"\n' +
    'NAME="vdb" KNAME="vdb" PKNAME="" TYPE="disk" SIZE="644245094400" RO="0" FSTYPE="" LABEL="" UUID="" PTTYPE="" MOUNTPOINT="" MAJ_MIN="254:16"\n',
  devnodes: '/dev/vda fe 0\n/dev/vda1 fe 1\n/dev/vdb fe 10\n',
  findmnt: 'TARGET="/" SOURCE="/dev/vda1" FSTYPE="ext4" FSROOT="/" OPTIONS="rw,relatime" UUID="0a1b"\n',
  'file /etc/fstab': 'y' + PRISTINE_FSTAB.slice(0, -1),
  'file /etc/hosts': 'y127.0.0.1\tlocalhost\n',
  'file /etc/sysctl.conf': 'y',
  stat: '/var/lib|directory|2049|131073\n/home|directory|2049|393217\n',
  statfs: '/var/lib|ext2/ext3\n/home|ext2/ext3\n',
  'dir /home': '',
  units: 'Id=nfs-server.service\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n\nId=chrony.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n',
  packages: 'chrony ii \n',
  'ip-forward': '0\n',
  selinux: '',
  addresses: '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n2: eth0    inet 10.0.2.12/24 brd 10.0.2.255 scope global eth0\n',
  route: 'default via 10.0.2.1 dev eth0 onlink \n',
  end: '',
};

describe('reading the host in one round trip', () => {
  it('parses every section exactly, files byte for byte', () => {
    const probe = probeFor(input('home'));
    const units = Object.fromEntries(probe.units.map((u) => [u, u]));
    expect(probe.units).toEqual(['nfs-server', 'ntpd', 'chronyd', 'chrony']);
    const sections = { ...PRISTINE_SECTIONS, units: probe.units.map((u) => (u === 'chrony' ? 'Id=chrony.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n' : `Id=${units[u]}.service\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n`)).join('\n') };
    const s = parseGather(gatherOutput('n0nce', sections), 'n0nce', probe, NOW);
    expect(s.files['/etc/fstab']).toBe(PRISTINE_FSTAB.slice(0, -1));
    expect(s.files['/etc/sysctl.conf']).toBe('');
    expect(s.files['/etc/exports']).toBeUndefined();
    expect(s.clockSkew).toBe(3);
    expect(s.devices.map((d) => [d.name, d.nodes])).toEqual([['vda', ['/dev/vda']], ['vda1', ['/dev/vda1']], ['vdb', ['/dev/vdb']]]);
    expect(s.units.chrony).toEqual({ loadState: 'loaded', activeState: 'active', unitFileState: 'enabled' });
    expect(s.units['nfs-server']?.loadState).toBe('not-found');
    expect(s.packages).toEqual(['chrony']);
    expect(s.paths['/var/lib']).toEqual({ kind: 'directory', dev: '2049', ino: '131073', fstype: 'ext2/ext3' });
    expect(s.addresses).toEqual([{ ifname: 'lo', address: '127.0.0.1' }, { ifname: 'eth0', address: '10.0.2.12' }]);
    expect(s.defaultRouteIf).toBe('eth0');
    expect(s.selinux).toBeUndefined();
    expect(s.firewall).toBeUndefined();
  });

  it('refuses a truncated answer', () => {
    const { end: _end, ...cut } = PRISTINE_SECTIONS;
    expect(() => parseGather(gatherOutput('n', cut), 'n', probeFor(input('home')), NOW)).toThrow(/could not be read completely/);
  });

  it('the script only reads, and quotes what it is given', () => {
    const script = gatherScript(probeFor(input('cache')), 'abc');
    expect(script).toContain("s 'file /etc/fstab'; if [ -f /etc/fstab ]; then printf y; cat /etc/fstab; fi");
    expect(script).toContain('/var/lib/icbd/mounts/tftpboot/icbd');
    // the package source probe fetches one index file as apt would: into a directory of its own, removed after
    const probe = script.split('\n').find((l) => l.startsWith('s package-source;'))!;
    expect(probe.match(/ rm [^;]*|>"?[^ ;]*/g)?.filter((w) => !w.startsWith('>/dev/null') && w !== '>&1')).toEqual(['>"$t/log"', ' rm -rf "$t"']);
    expect(probe).toContain('t=$(mktemp -d)');
    // every line but the `command -v` probe, which names mkfs.btrfs only to look for it, and the package source probe
    const body = script.split('\n').filter((l) => !l.startsWith('s commands;') && l !== probe).join('\n').replaceAll('>/dev/null', '').replaceAll('2>', '');
    for (const verb of ['mkfs', 'mount -', 'umount', 'rm ', 'mv ', 'cp ', 'systemctl start', 'systemctl enable', '--add-', 'setenforce', 'sysctl -w', '>']) {
      expect(body).not.toContain(` ${verb}`);
    }
  });
});

describe('the runner', () => {
  const answerGather = (argv: readonly string[], stdin?: string) => {
    if (argv.join(' ') !== 'sh -s' || !stdin) return undefined;
    const nonce = /^N=(\S+)/.exec(stdin)![1]!;
    return { stdout: gatherOutput(nonce, PRISTINE_SECTIONS) };
  };

  it('check = one round trip and a plan', async () => {
    const { remote, calls } = fakeHost(answerGather);
    const plan = await checkHost({ remote, audit: () => undefined, now: () => NOW }, input('home'));
    expect(calls).toHaveLength(1);
    expect(plan.family).toBe('debian');
    expect(plan.changes).toBeGreaterThan(0);
  });

  it('refuses to start while any step is blocked, changing nothing', async () => {
    const { remote, calls } = fakeHost(answerGather);
    const audit: AuditEntry[] = [];
    await expect(install({ remote, audit: (e) => void audit.push(e), now: () => NOW }, input('home'))).rejects.toThrow(/the install cannot start\.\ndisk: Type the disk to format to confirm: \/dev\/vdb \(600 GiB\)\./);
    expect(calls.map((c) => c.argv.join(' '))).toEqual(['sh -s']);
    expect(audit).toEqual([]);
  });
});
