import { mapPath, SERVICES } from '../../../../shared/distro.ts';
import { editFstab, fstabProblems, orderMounts, resolveBinds, type FstabEntry } from '../../../../shared/fstab.ts';
import { LIB_MOUNT, mountEntry, type MountSpec } from '../../../../shared/roles.ts';
import { cmd, dirname, fileChange, restartable } from '../changes.ts';
import type { Change, Notice, PlanContext, Step } from '../step.ts';
import { mountAt, sameFile, type HostState } from '../state.ts';
import { PENDING_UUID } from './lib.ts';

type Line = { spec: MountSpec; entry: FstabEntry };

/** The role's fstab lines (Lib first) as the host's distribution spells their paths. */
export function roleLines(ctx: PlanContext): Line[] {
  const nfs = ctx.input.nfs ?? true;
  return [LIB_MOUNT, ...ctx.spec.mounts]
    .filter((m) => nfs || m.kind !== 'nfs')
    .map((spec) => ({ spec, entry: mountEntry(spec, ctx.uuid ?? PENDING_UUID, (p) => mapPath(ctx.family, p)) }));
}

/** Mounted as the line says: same subvolume of our filesystem, same NFS export, or the bind source's very inode. */
export function mountedRight(s: HostState, { spec, entry }: Line, uuid: string | undefined): boolean {
  const m = mountAt(s, entry.target);
  if (!m) return false;
  switch (spec.kind) {
    case 'subvol':
      return m.fstype === 'btrfs' && m.fsroot === `/${spec.subvol}` && m.uuid === uuid;
    case 'nfs':
      return m.fstype.startsWith('nfs') && m.source === spec.source;
    case 'bind':
      return sameFile(s, spec.source, entry.target);
  }
}

/**
 * The role's fstab lines: sources and mount points made first, /etc/fstab checked and replaced,
 * each line mounted from it in parent-first order. A failed mount (or one that does not read back
 * right) undoes the step: the old /etc/fstab back, the new mounts unmounted (apply.ts).
 */
export const mounts: Step = {
  id: 'mounts',
  title: 'Mounts (/etc/fstab)',
  plan: (ctx) => {
    const { state } = ctx;
    const lines = roleLines(ctx);
    const entries = lines.map((l) => l.entry);
    const before = state.files['/etc/fstab'] ?? '';
    const after = editFstab(before, entries);
    const notices: Notice[] = ctx.uuid
      ? fstabProblems(after, entries).map((message) => ({ level: 'blocker' as const, message: `/etc/fstab would be invalid: ${message}` }))
      : [{ level: 'info', message: 'The lines name the filesystem by the UUID mkfs gives it.' }];
    const nfsLines = ctx.spec.mounts.some((m) => m.kind === 'nfs');
    if (!(ctx.input.nfs ?? true) && nfsLines) {
      notices.push({ level: 'warning', message: "The cache's nfs4 lines are left out (no NFS client on this host)." });
    } else if (nfsLines && !state.nfsClient) {
      notices.push({ level: 'blocker', message: "This kernel cannot mount nfs4 (no NFS client, as in a container): install without the cache's NFS lines, or on a host whose kernel has the nfs module." });
    }
    const own = lines.slice(1);
    const changes: Change[] = prepare(ctx, own, entries);
    changes.push(...fileChange('Write the role\'s lines to /etc/fstab (then systemctl daemon-reload)', { path: '/etc/fstab', inPlace: false }, before, after, { fstab: true }));
    const toMount = orderMounts(entries).flatMap((e) => own.filter((l) => l.entry === e && !mountedRight(state, l, ctx.uuid)));
    for (const { spec, entry } of toMount) {
      const recursive = spec.kind === 'bind' && spec.recursive;
      changes.push(cmd(`Mount ${entry.target}`, ['mount', entry.target], { undo: recursive ? ['umount', '-R', entry.target] : ['umount', entry.target] }));
    }
    // services read these at start; after the bind they must re-read them (LAB-NOTES)
    const mounted = new Set(toMount.map((l) => l.entry.target));
    const restart = restartable(ctx, ctx.spec.services.filter((s) => SERVICES[s].config.some((p) => mounted.has(mapPath(ctx.family, p)))));
    if (restart.length) changes.push(cmd(`Restart ${restart.join(', ')} if running, to read the mounted configuration`, ['systemctl', 'try-restart', ...restart]));
    return { changes, notices };
  },
};

/**
 * Sources and mount points, made before /etc/fstab is written. A missing bind source starts as a
 * copy of what it will cover (the host's own /etc/hosts with the names the hosts step wrote, its
 * Apache configuration), made beside it and renamed when complete; with nothing to copy it is an
 * empty file or directory. A file is copied even when something else is mounted on it (a
 * container's /etc/hosts): its text is what the host reads, and the names in it must survive the
 * bind. A directory mounted by someone else is not copied. Copies come before the other
 * directories, so none is renamed onto a directory an inner mkdir made. Mount points are made
 * where they will be seen (inside the source of an enclosing bind, so they exist once it is
 * mounted) and where they are seen now (findmnt --verify checks them before the new binds are
 * mounted; that one is an empty directory the bind then covers). Subvolumes of the layout step
 * count as there.
 */
function prepare(ctx: PlanContext, lines: Line[], entries: FstabEntry[]): Change[] {
  const s = ctx.state;
  const layout = new Set(ctx.spec.layout.map((l) => l.path));
  const exists = (p: string) => s.paths[p] !== undefined || layout.has(p);
  const seeds: { src: string; from: string }[] = [];
  const dirs = new Set<string>();
  const touch = new Set<string>();
  const binds = lines.flatMap((l) => (l.spec.kind === 'bind' ? [{ entry: l.entry, spec: l.spec }] : []));
  for (const { spec, entry } of binds.sort((a, b) => a.spec.source.localeCompare(b.spec.source))) {
    const src = spec.source;
    if (exists(src) || seeds.some((x) => x.src === src) || dirs.has(src) || touch.has(src)) continue;
    if (s.paths[entry.target] && (spec.file || mountAt(s, entry.target) === undefined)) seeds.push({ src, from: entry.target });
    else if (spec.file) {
      dirs.add(dirname(src));
      touch.add(src);
    } else dirs.add(src);
  }
  for (const { spec, entry } of lines) {
    for (const p of new Set([resolveBinds(entry.target, entries), entry.target])) {
      if (!exists(p)) (spec.kind === 'bind' && spec.file ? touch : dirs).add(p);
    }
  }
  const parents = [...new Set(seeds.map((x) => dirname(x.src)))].filter((p) => !exists(p));
  const mkdirs = [...dirs].filter((p) => !exists(p) && !parents.includes(p)).sort();
  return [
    ...(parents.length ? [cmd('Make the parents of the copied sources', ['mkdir', '-p', ...parents])] : []),
    ...seeds.flatMap(({ src, from }) => {
      const tmp = `${src}.icbd-new`;
      return [
        cmd('Delete a partial copy an interrupted run left', ['rm', '-rf', '--', tmp], { onlyIf: ['test', '-e', tmp] }),
        cmd(`Copy ${from} to ${src}, which will be mounted over it`, ['cp', '-a', '--', from, tmp]),
        cmd(`Rename the complete copy to ${src}`, ['mv', '-T', '--', tmp, src]),
      ];
    }),
    ...(mkdirs.length ? [cmd('Create the bind sources and mount points', ['mkdir', '-p', ...mkdirs])] : []),
    ...(touch.size ? [cmd('Create the files that are bind-mounted', ['touch', ...[...touch].sort()])] : []),
  ];
}
