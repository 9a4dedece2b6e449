import { unifiedDiff } from '../../../shared/unified-diff.ts';
import type { CommandChange, FileChange, PlanContext } from './step.ts';
import { mapPath, servicePackage, SERVICES } from '../../../shared/distro.ts';
import type { MountSpec, Service } from '../../../shared/roles.ts';
import { mountAt, sameFile } from './state.ts';

export function cmd(summary: string, argv: string[], extra: Partial<Pick<CommandChange, 'onlyIf' | 'unless' | 'undo'>> = {}): CommandChange {
  return { kind: 'command', summary, argv, ...extra };
}

/** A file change, or nothing when the text does not change. */
export function fileChange(
  summary: string,
  where: { path: string; inPlace: boolean },
  before: string | undefined,
  after: string,
  extra: Partial<Pick<FileChange, 'mode' | 'fstab'>> = {},
): FileChange[] {
  if (before === after) return [];
  return [{ kind: 'file', summary, path: where.path, ...(before === undefined ? {} : { before }), after, diff: unifiedDiff(where.path, before ?? '', after), inPlace: where.inPlace, ...extra }];
}

export interface EditTarget {
  path: string;
  inPlace: boolean;
  current: string | undefined;
}

/**
 * Where an edit of `path` goes so that the host has it now and after the mounts step. The file
 * the host reads now: a file bind-mounted by the role (/etc/hosts, /etc/exports) is written at
 * its bind source, in place; one bind-mounted by someone else is rewritten in place where it is.
 *
 * A step that runs after the mounts step (exports) edits the role's bind source whatever the
 * host looks like when planned, as that is what the apply will find: the dry run of a pristine
 * host shows the path that will really be written. A step before it (hosts: the cache's nfs4
 * mounts resolve their servers' names through /etc/hosts before the bind exists) edits the file
 * itself until the bind is mounted, and a bind source that exists already as well, since the
 * mounts step puts it over the file. A source that does not exist yet is not: the mounts step
 * makes it as a copy of the edited file.
 */
export function editTargets(ctx: PlanContext, path: string, runs: 'before-mounts' | 'after-mounts'): EditTarget[] {
  const { state } = ctx;
  const bind = ctx.spec.mounts.find((m): m is Extract<MountSpec, { kind: 'bind' }> => m.kind === 'bind' && m.file === true && mapPath(ctx.family, m.target) === path);
  if (bind && runs === 'after-mounts') return [{ path: bind.source, inPlace: true, current: state.files[bind.source] ?? state.files[path] }];
  const source: EditTarget | undefined = bind && state.files[bind.source] !== undefined ? { path: bind.source, inPlace: true, current: state.files[bind.source] } : undefined;
  if (source && sameFile(state, source.path, path)) return [source];
  return [{ path, inPlace: mountAt(state, path) !== undefined, current: state.files[path] }, ...(source ? [source] : [])];
}

export const dirname = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

/**
 * Units of these services worth a `systemctl try-restart`: those on the host, and those whose
 * package the packages step is about to install (try-restart fails on a unit that does not exist).
 */
export function restartable(ctx: PlanContext, services: readonly Service[]): string[] {
  return services.flatMap((service) => {
    const unit = SERVICES[service].unit[ctx.family];
    const pkg = servicePackage(service, ctx.family);
    const there = ctx.state.units[unit]?.loadState === 'loaded';
    return there || (pkg !== undefined && !ctx.state.packages.includes(pkg)) ? [unit] : [];
  });
}
