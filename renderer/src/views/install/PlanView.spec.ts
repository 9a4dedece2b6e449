import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { describe, expect, it } from 'vitest';
import { PLAN } from './plan-fixture.ts';
import PlanView from './PlanView.svelte';

describe('the plan', () => {
  it('shows each change with its exact command line or its unified diff, + and - lines marked by class', () => {
    const { container } = render(PlanView, { plan: PLAN });
    expect(screen.getByText('$ mkfs.btrfs -L icbd /dev/vdb')).toBeTruthy();
    expect(screen.getByText('erases a disk')).toBeTruthy();
    const added = container.querySelector('.diff .add');
    expect(added?.textContent).toBe('+UUID=x\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n');
    expect(container.querySelector('.diff .meta')?.textContent).toMatch(/^--- a\/etc\/fstab/);
    expect(screen.getByText(/nfs4 lines are left out/)).toBeTruthy();
    expect(screen.getByText(/2 changes/)).toBeTruthy();
  });

  it('says so when there is nothing to do', () => {
    render(PlanView, { plan: { ...PLAN, changes: 0, steps: PLAN.steps.map((s) => ({ ...s, changes: [] })) } });
    expect(screen.getAllByText('nothing to do').length).toBeGreaterThan(1);
  });
});
