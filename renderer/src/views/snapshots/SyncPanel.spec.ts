import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../../../shared/contract.ts';
import { fake } from '../../lib/fake-api.ts';
import SyncPanel from './SyncPanel.svelte';
import { group, noKey, pushPlan } from './plan-fixtures.ts';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

afterEach(() => fake.reset());

const startSync = () => screen.getByRole('button', { name: 'Start sync' }) as HTMLButtonElement;
const plans = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'replication.planSync').length;

describe('SyncPanel', () => {
  it('plans at once and offers one key setup for every cache any image could not reach', async () => {
    const lacking: Output<'replication.planSync'> = {
      upToDate: true,
      pushes: [
        pushPlan({ image: 'win10', skipped: [noKey('cache02')], setupKeys: { from: 'imgs', to: ['cache02'] } }),
        pushPlan({ image: 'linux', number: 7, skipped: [noKey('cache02'), noKey('cache03')], setupKeys: { from: 'imgs', to: ['cache02', 'cache03'] } }),
      ],
    };
    const after: Output<'replication.planSync'> = {
      upToDate: false,
      pushes: [pushPlan({ image: 'win10', groups: [group(['cache02'], { staging: "cache02's link measured 2.0 Gbit/s (probe), faster than 500 Mbit/s: nothing is staged there, and …" })] }), pushPlan({ image: 'linux', number: 7, groups: [group(['cache02', 'cache03'], { kind: 'incremental', parent: { number: 6, uuid: '5c1a3e0f-8d2b-4c6a-9e7f-1b2d3c4e5f60' } })] })],
    };
    const answers = [lacking, after];
    fake.answer('replication.planSync', () => answers.shift()!);
    fake.answer('replication.setupKeys', ({ to }) => to.map((node) => ({ node, ok: true, detail: `imgs reaches ${node} as root` })));
    const user = userEvent.setup();
    render(SyncPanel, { onclose: () => undefined });

    const offer = await screen.findByRole('region', { name: 'Node keys' });
    expect(offer.textContent).toContain("imgs's root cannot log in to cache02, cache03 over SSH");
    // "Up to date" as the core counts it (nothing to send), yet nothing is: the keys block it.
    expect(screen.queryByText(/Every cache has the newest snapshot/)).toBeNull();
    expect(screen.getByLabelText('Sync plan').textContent).toContain('win10@3 → nothing to send');
    expect(startSync().disabled).toBe(true);

    await user.click(within(offer).getByRole('button', { name: 'Set up node keys' }));
    await user.click(screen.getByRole('button', { name: 'Set up keys' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.setupKeys', { from: 'imgs', to: ['cache02', 'cache03'] });
    await waitFor(() => expect(plans()).toBe(2));
    const plan = screen.getByLabelText('Sync plan').textContent;
    expect(plan).toContain('win10@3 → cache02 (full)');
    expect(plan).toContain("cache02's link measured 2.0 Gbit/s (probe), faster than 500 Mbit/s: nothing is staged there");
    expect(plan).toContain('linux@7 → cache02, cache03 (incremental from 6, one stream)');
    expect(startSync().disabled).toBe(false);
  });

  it('says when every cache is up to date, and starts a sync with a pointer to the monitor', async () => {
    const answers: Output<'replication.planSync'>[] = [{ upToDate: true, pushes: [] }, { upToDate: false, pushes: [pushPlan({ groups: [group(['cache01', 'cache02'])] })] }];
    fake.answer('replication.planSync', () => answers.shift()!);
    fake.answer('replication.sync', () => ({ plan: { upToDate: false, pushes: [] }, transfers: [] }));
    const user = userEvent.setup();
    render(SyncPanel, { onclose: () => undefined });
    expect(await screen.findByText('Every cache has the newest snapshot of each image it carries.')).toBeTruthy();
    expect(startSync().disabled).toBe(true);

    await user.click(screen.getByRole('button', { name: 'Plan again' }));
    await waitFor(() => expect(screen.getByLabelText('Sync plan').textContent).toContain('win10@3 → cache01, cache02 (full, one stream)'));
    await user.click(startSync());
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.sync', {});
    expect((await screen.findByRole('status')).textContent).toContain('0 transfers started');
    expect(screen.getByRole('link', { name: 'Transfers' }).getAttribute('href')).toBe('#/transfers');
  });
});
