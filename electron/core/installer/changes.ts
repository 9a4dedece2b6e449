import { unifiedDiff } from '../../../shared/unified-diff.ts';
import type { CommandChange, FileChange, PlanContext } from './step.ts';
import { mapPath, servicePackage, SERVICES } from '../../../shared/distro.ts';
import type { MountSpec, Service } from '../../../shared/roles.ts';
import { mountAt } from './state.ts';

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

/**
 * Where an edit of `path` really goes. When the role bind-mounts the file (/etc/hosts, /etc/exports)
 * the bind source is edited, in place — also before the mount exists, since the mounts step seeds
 * the source from the file. A file bind-mounted by someone else is rewritten in place where it is.
 */
export function editTarget(ctx: PlanContext, path: string): { path: string; inPlace: boolean; current: string | undefined } {
  const bind = ctx.spec.mounts.find((m): m is Extract<MountSpec, { kind: 'bind' }> => m.kind === 'bind' && m.file === true && mapPath(ctx.family, m.target) === path);
  const files = ctx.state.files;
  if (bind) return { path: bind.source, inPlace: true, current: files[bind.source] ?? files[path] };
  return { path, inPlace: mountAt(ctx.state, path) !== undefined, current: files[path] };
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
