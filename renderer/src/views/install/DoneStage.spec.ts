import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Output } from '../../../../shared/contract.ts';
import type { TrustPlanOut } from '../../../../shared/install.ts';
import { fake } from '../../lib/fake-api.ts';
import { jobTracker } from '../../lib/jobs.svelte.ts';
import DoneStage from './DoneStage.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const tree = (images: number) => ({ source: 'imgs', nodes: [], images: Array.from({ length: images }, (_, i) => ({ name: `img${i}`, rows: [] })), at: 1 }) as unknown as Output<'replication.tree'>;
const TRUST: TrustPlanOut = {
  nodes: [
    {
      host: 'imgs',
      steps: [
        {
          id: 'ssh-trust',
          title: 'SSH trust between nodes',
          destructive: false,
          notices: [],
          changes: [{ kind: 'file', summary: "Accept the other nodes' keys", path: '/root/.ssh/authorized_keys', before: '', after: 'k\n', diff: '--- a\n+++ b\n@@ -0,0 +1 @@\n+ssh-ed25519 AAAA root@cache01\n', inPlace: false }],
        },
      ],
    },
    { host: 'rw', steps: [], skipped: 'rw has no root key yet: its trust is set up when it is installed.' },
  ],
  notices: [{ level: 'warning', message: 'rw has no root key yet: its trust is set up when it is installed.' }],
  changes: 1,
};
const SYNC = { upToDate: false, pushes: [{ source: 'imgs', image: 'img0', number: 3, uuid: 'u', mode: 'direct', encrypted: true, groups: [{ kind: 'full', parent: null, targets: ['cache01'] }], skipped: [], warnings: [] }] } as unknown as Output<'replication.planSync'>;

let unfollow: () => void;
beforeEach(() => {
  fake.reset();
  unfollow = jobTracker.follow();
  fake.answer('install.planTrust', () => TRUST);
});
afterEach(() => unfollow());

describe('the wizard once the cache is installed', () => {
  it('keeps the replication offer disabled, with the reason, while imgs has no images', async () => {
    fake.answer('replication.tree', () => tree(0));
    render(DoneStage, { host: 'cache01', plan: undefined, busy: false, onrecheck: () => {} });
    expect(await screen.findByText(/imgs has no images yet/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Replicate the latest images now' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows the trust plan with its diffs and runs it as a job', async () => {
    fake.answer('replication.tree', () => tree(1));
    fake.answer('install.trust', () => ({ jobId: 'job-trust-0001' }));
    render(DoneStage, { host: 'cache01', plan: undefined, busy: false, onrecheck: () => {} });
    const user = userEvent.setup();
    expect(await screen.findByText('+ssh-ed25519 AAAA root@cache01')).toBeTruthy();
    expect(screen.getByText(/rw has no root key yet/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Set up trust (1 change)' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('install.trust', {});
    fake.emit('job.update', { id: 'job-trust-0001', kind: 'install.trust', title: 'Set up SSH trust between the nodes', state: 'done', progress: 1, message: 'Every node trusts every other.', startedAt: 1, result: { nodes: [], notices: [], changes: 0 } });
    expect(await screen.findByText(/Every installed node accepts the others' keys/)).toBeTruthy();
  });

  it('plans the replication to this cache, starts it, and links to Transfers', async () => {
    fake.answer('replication.tree', () => tree(1));
    fake.answer('replication.planSync', () => SYNC);
    fake.answer('replication.sync', () => ({ plan: SYNC, transfers: [{}] }) as unknown as Output<'replication.sync'>);
    render(DoneStage, { host: 'cache01', plan: undefined, busy: false, onrecheck: () => {} });
    const user = userEvent.setup();
    const offer = await screen.findByRole('button', { name: 'Replicate the latest images now' });
    await screen.findByText(/you see the plan before anything starts/);
    await user.click(offer);
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.planSync', { targets: ['cache01'] });
    expect(await screen.findByText('img0@3 → cache01 (full)')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Start replication' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.sync', { targets: ['cache01'] });
    expect((await screen.findByRole('link', { name: 'Transfers' })).getAttribute('href')).toBe('#/transfers');
  });
});
