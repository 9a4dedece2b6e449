import type { InstallPlanOut, StepPlanOut, TrustPlanOut } from '../../shared/install.ts';
import { command } from '../../shared/shell.ts';

const LEVEL = { info: 'i', warning: '!', blocker: 'X' } as const;

/**
 * A plan as the operator reads it before saying yes: per step its notices, then each change with
 * the exact command line (as the host will run it) or the file's unified diff.
 */
export function planText(plan: InstallPlanOut, colour = false): string {
  const out = [`${plan.host} as ${plan.role}: ${plan.distribution}`, ...stepsText(plan.steps, colour), ''];
  if (plan.blockers.length) out.push(`${plan.blockers.length} blocker(s): nothing can be applied until they are fixed.`);
  out.push(plan.changes === 0 ? `Nothing to do: ${plan.host} is installed as ${plan.role} and checks out.` : `${plan.changes} change(s) planned.`);
  return out.join('\n');
}

/** The platform's trust plan: per node its steps as above, or why it is left for later. */
export function trustText(plan: TrustPlanOut, colour = false): string {
  const out: string[] = [];
  for (const node of plan.nodes) {
    out.push('', `== ${node.host}`);
    if (node.skipped) out.push(`  ! ${node.skipped}`);
    else out.push(...stepsText(node.steps, colour).map((l) => (l ? `  ${l}` : l)));
  }
  out.push('', plan.changes === 0 ? 'Nothing to do: every installed node trusts every other, as the guide\'s table says.' : `${plan.changes} change(s) planned.`);
  return out.join('\n').replace(/^\n/, '');
}

function stepsText(steps: readonly StepPlanOut[], colour: boolean): string[] {
  const paint = (code: string, s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out: string[] = [];
  steps.forEach((step, i) => {
    const n = step.changes.length;
    const what = n === 0 ? 'nothing to do' : `${n} change${n === 1 ? '' : 's'}${step.destructive ? ', DESTROYS DATA' : ''}`;
    out.push('', paint('1', `[${i + 1}/${steps.length}] ${step.title}: ${what}`));
    for (const note of step.notices) out.push(`  ${LEVEL[note.level]} ${note.message}`);
    for (const c of step.changes) {
      out.push(`  - ${c.summary}`);
      if (c.kind === 'command') {
        const guard = c.onlyIf ? `  (only if: ${command(c.onlyIf)})` : c.unless ? `  (unless: ${command(c.unless)})` : '';
        out.push(`      $ ${command(c.argv)}${guard}`);
      } else {
        for (const line of c.diff.trimEnd().split('\n')) {
          const code = line.startsWith('+') && !line.startsWith('+++') ? '32' : line.startsWith('-') && !line.startsWith('---') ? '31' : line.startsWith('@@') ? '36' : '';
          out.push(`      ${code ? paint(code, line) : line}`);
        }
      }
    }
  });
  return out;
}
