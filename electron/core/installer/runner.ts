import { AppError } from '../../../shared/errors.ts';
import { command } from '../../../shared/shell.ts';
import { applyChanges, type AuditEntry } from './apply.ts';
import { gather } from './gather.ts';
import { contextFor, planInstall, planStep, stepsFor, type InstallPlan } from './plan.ts';
import { runChecked, type Remote } from '../remote/host.ts';
import type { InstallInput, StepId, StepPlan } from './step.ts';
import type { HostState } from './state.ts';

export interface InstallDeps {
  remote: Remote;
  audit(entry: AuditEntry): void | Promise<void>;
  now?: () => number;
  signal?: AbortSignal;
  progress?(event: { step: StepId; phase: 'unchanged' | 'applying' | 'done'; plan: StepPlan }): void;
}

/**
 * Dry run, and "check this host": one gather, every step planned. An installed host plans
 * nothing. Nothing is remembered on the operator's side, so after the app was closed mid-install
 * this shows where the host stands and `install` carries on from there.
 */
export async function checkHost(deps: InstallDeps, input: InstallInput): Promise<InstallPlan> {
  return planInstall(await gather(deps.remote, input, deps.now, deps.signal), input);
}

/**
 * Installs step by step. Nothing starts while any step has a blocker (no host is left half-done
 * for a reason known in advance). Each step is planned against fresh state, applied, read back and
 * planned again: if anything is still to do, the step's changes are undone and the install stops.
 * Returns the final check of the host.
 */
export async function install(deps: InstallDeps, input: InstallInput): Promise<InstallPlan> {
  const read = () => gather(deps.remote, input, deps.now, deps.signal);
  let state = await read();
  const first = planInstall(state, input);
  if (first.blockers.length > 0) {
    throw new AppError('CONFLICT', `${input.host}: the install cannot start.\n${first.blockers.map((b) => `${b.step}: ${b.message}`).join('\n')}`, { plan: first });
  }
  for (const step of stepsFor(input.role)) {
    const plan = planStep(step, context(state, input));
    const blockers = plan.notices.filter((n) => n.level === 'blocker');
    if (blockers.length > 0) throw new AppError('CONFLICT', `${input.host}: ${step.title}: ${blockers.map((b) => b.message).join(' ')}`, { plan });
    if (plan.changes.length === 0) {
      deps.progress?.({ step: step.id, phase: 'unchanged', plan });
      continue;
    }
    deps.progress?.({ step: step.id, phase: 'applying', plan });
    const tx = await applyChanges(
      {
        remote: deps.remote,
        host: input.host,
        step: step.id,
        audit: deps.audit,
        now: deps.now ?? Date.now,
        findmntVerify: state.findmntVerify,
        ...(deps.signal ? { signal: deps.signal } : {}),
      },
      plan.changes,
    );
    state = await read();
    const left = planStep(step, context(state, input));
    if (left.changes.length > 0) {
      await tx.undo();
      throw new AppError('REMOTE_FAILED', `${input.host}: ${step.title} did not take; undone. Still to do: ${left.changes.map((c) => c.summary).join('; ')}`, { plan: left });
    }
    deps.progress?.({ step: step.id, phase: 'done', plan: left });
  }
  return planInstall(state, input);
}

function context(state: HostState, input: InstallInput) {
  const ctx = contextFor(state, input);
  if (!ctx) throw new AppError('CONFLICT', `${input.host}: the distribution is no longer recognised.`);
  return ctx;
}

const REBOOT = ['systemd-run', '--quiet', '--on-active=2', '--timer-property=AccuracySec=100ms', 'systemctl', 'reboot'];

/**
 * Reboot and check again: every fstab mount back and every service active means the host plans
 * nothing. `reconnect` resolves once the host answers over SSH again (the lead's SSH pool).
 */
export async function rebootAndCheck(deps: InstallDeps, input: InstallInput, reconnect: () => Promise<void>): Promise<InstallPlan> {
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  // A plain `systemctl reboot` races the shutdown for its own exit status, and a connection
  // dropped mid-command may be noticed only by keepalive a minute later: the reboot is queued to
  // start two seconds after the command has answered.
  await runChecked(deps.remote, REBOOT);
  await deps.audit({ at, host: input.host, step: 'services', summary: 'Reboot', command: command(REBOOT), result: 'ok' });
  await reconnect();
  return checkHost(deps, input);
}
