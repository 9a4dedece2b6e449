import { familyOf, parseOsRelease, type Family } from '../../../shared/distro.ts';
import type { Role } from '../../../shared/inventory.ts';
import { ROLES } from '../../../shared/roles.ts';
import { icbdFilesystem } from './disks.ts';
import type { HostState } from './state.ts';
import type { InstallInput, Notice, PlanContext, Step, StepId, StepPlan } from './step.ts';
import { disk } from './steps/disk.ts';
import { exportsStep, hosts, sysctl } from './steps/etc.ts';
import { firewall } from './steps/firewall.ts';
import { layout } from './steps/layout.ts';
import { lib } from './steps/lib.ts';
import { mounts } from './steps/mounts.ts';
import { sshKey, sshTrust } from './steps/ssh.ts';
import { packages, preflight, preflightNotices, selinux, services } from './steps/system.ts';

/**
 * The guide's order: packages before the disk (so the copy of /var/lib has them and there is
 * Apache configuration to seed the bind sources from), /etc/hosts before the mounts (the cache's
 * nfs4 lines name home.icbd.local and data.icbd.local, which must resolve when they are mounted;
 * the bind source of /etc/hosts is then made as a copy of the edited file), the exports after
 * them (exportfs needs the exported binds), the services last so they start on their final
 * configuration.
 */
export const STEPS: readonly Step[] = [preflight, packages, selinux, disk, lib, layout, hosts, mounts, sysctl, firewall, exportsStep, services, sshKey, sshTrust];

export function stepsFor(role: Role): Step[] {
  return STEPS.filter((s) => !s.roles || s.roles.includes(role));
}

export interface InstallPlan {
  host: string;
  role: Role;
  distribution: string;
  family?: Family;
  steps: StepPlan[];
  blockers: { step: StepId; message: string }[];
  /** Number of changes over all steps: 0 means the host is installed and verified. */
  changes: number;
}

export function contextFor(state: HostState, input: InstallInput): PlanContext | undefined {
  const f = familyOf(parseOsRelease(state.osRelease));
  if ('unsupported' in f) return undefined;
  const fs = icbdFilesystem(state);
  return { input, state, family: f.family, spec: ROLES[input.role], uuid: fs && 'uuid' in fs ? fs.uuid : undefined };
}

export function planStep(step: Step, ctx: PlanContext): StepPlan {
  const { changes, notices = [] } = step.plan(ctx);
  return { id: step.id, title: step.title, destructive: step.destructive === true, changes, notices };
}

/** Every step planned against one state: what a dry run shows, and what "check this host" is. */
export function planInstall(state: HostState, input: InstallInput): InstallPlan {
  const ctx = contextFor(state, input);
  const steps = ctx
    ? stepsFor(input.role).map((s) => planStep(s, ctx))
    : [{ id: preflight.id, title: preflight.title, destructive: false, changes: [], notices: preflightNotices(state) }];
  return {
    host: input.host,
    role: input.role,
    distribution: parseOsRelease(state.osRelease).prettyName,
    ...(ctx ? { family: ctx.family } : {}),
    steps,
    blockers: steps.flatMap((s) => s.notices.filter((n: Notice) => n.level === 'blocker').map((n) => ({ step: s.id, message: n.message }))),
    changes: steps.reduce((sum, s) => sum + s.changes.length, 0),
  };
}
