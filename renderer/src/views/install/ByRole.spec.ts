import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InstallDisks, InstallPlanOut, InstallState } from '../../../../shared/install.ts';
import { fake } from '../../lib/fake-api.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import { jobTracker } from '../../lib/jobs.svelte.ts';
import ByRole from './ByRole.svelte';
import { PLAN } from './plan-fixture.ts';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const PLATFORM = { imgs: '10.213.2.251', home: '10.213.2.12', data: '10.213.2.11', clients: '10.213.2.0/24' };
const STATE: InstallState = { host: 'home', settings: { role: 'home', platform: PLATFORM, nfs: true }, proposed: true };
const DISKS: InstallDisks = {
  distribution: 'Debian GNU/Linux 12 (bookworm)',
  preflight: [],
  disks: [
    { device: '/dev/vda', nodes: ['/dev/vda'], size: 16 * 2 ** 30, type: 'disk', fstype: '', problems: ['it is mounted (/)'] },
    { device: '/dev/vdb', nodes: ['/dev/vdb'], size: 4 * 2 ** 30, type: 'disk', fstype: '', problems: [] },
  ],
};
const HOME_PLAN: InstallPlanOut = { ...PLAN, host: 'home', role: 'home' };
const DONE: InstallPlanOut = { ...HOME_PLAN, changes: 0, steps: HOME_PLAN.steps.map((s) => ({ ...s, changes: [] })) };

let unfollow: () => void;
beforeEach(() => {
  fake.reset();
  unfollow = jobTracker.follow();
  hostList.hosts = [{ name: 'home', address: '10.213.2.12', port: 22, user: 'root', role: 'home' }];
  fake.answer('install.state', () => STATE);
  fake.answer('install.disks', () => DISKS);
  fake.answer('jobs.list', () => []);
  fake.answer('install.planTrust', () => ({ nodes: [], changes: 0, notices: [] }));
});
afterEach(() => unfollow());

async function pickHome() {
  const user = userEvent.setup();
  render(ByRole);
  await user.selectOptions(screen.getByLabelText('Host'), 'home');
  await screen.findByText('/dev/vdb');
  return user;
}

describe('installing any host by its role', () => {
  it("takes the host's role, offers only its empty disk, and applies only once the device name is typed", async () => {
    fake.answer('install.plan', () => HOME_PLAN);
    fake.answer('install.apply', () => ({ jobId: 'job-home-0001' }));
    const user = await pickHome();
    expect((screen.getByLabelText('Role') as HTMLSelectElement).value).toBe('home');
    expect(screen.getAllByRole('radio')).toHaveLength(1);
    expect(screen.getByText(/it is mounted \(\/\)/)).toBeTruthy();
    await user.click(screen.getByRole('radio'));
    await user.click(screen.getByRole('button', { name: 'Check (dry run)' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('install.plan', { host: 'home', role: 'home', platform: PLATFORM, nfs: true, confirmDisk: '/dev/vdb' });
    const apply = (await screen.findByRole('button', { name: 'Apply 2 changes' })) as HTMLButtonElement;
    expect(apply.disabled).toBe(true);
    await user.type(screen.getByLabelText(/Type \/dev\/vdb to confirm/), '/dev/vdb');
    expect(apply.disabled).toBe(false);
    await user.click(apply);
    expect(fake.api.invoke).toHaveBeenCalledWith('install.apply', { host: 'home', role: 'home', platform: PLATFORM, nfs: true, confirmDisk: '/dev/vdb' });
  });

  it('after a clean apply offers the reboot, and says when the host came back whole', async () => {
    fake.answer('install.plan', () => HOME_PLAN);
    fake.answer('install.apply', () => ({ jobId: 'job-home-0001' }));
    fake.answer('install.reboot', () => ({ jobId: 'job-home-0002' }));
    const user = await pickHome();
    await user.click(screen.getByRole('radio'));
    await user.click(screen.getByRole('button', { name: 'Check (dry run)' }));
    await user.type(await screen.findByLabelText(/Type \/dev\/vdb to confirm/), '/dev/vdb');
    await user.click(screen.getByRole('button', { name: 'Apply 2 changes' }));
    fake.emit('job.update', { id: 'job-home-0001', kind: 'install.apply', title: 'Install home on home', state: 'done', progress: 1, startedAt: 1, result: DONE });
    expect(await screen.findByText('home is installed and verified as home.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Reboot home and verify' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('install.reboot', expect.objectContaining({ host: 'home', role: 'home' }));
    fake.emit('job.update', { id: 'job-home-0002', kind: 'install.reboot', title: 'Reboot home', state: 'done', progress: 1, startedAt: 2, result: DONE });
    expect(await screen.findByText('home came back with every mount and service in place.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Reboot home and verify' })).toBeNull();
  });

  it('says plainly when an installed host has nothing to do', async () => {
    fake.answer('install.disks', () => ({ ...DISKS, filesystem: '7d1c4a9e-0000-4000-8000-000000000001' }));
    fake.answer('install.plan', () => DONE);
    const user = userEvent.setup();
    render(ByRole);
    await user.selectOptions(screen.getByLabelText('Host'), 'home');
    await screen.findByText(/The iCBD filesystem exists already/);
    await user.click(screen.getByRole('button', { name: 'Check (dry run)' }));
    expect(await screen.findByText('Checked just now: home is a verified home node, nothing to do.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Apply/ })).toBeNull();
  });

  it('sends a cache without its number and subnet to the wizard', async () => {
    const user = await pickHome();
    await user.selectOptions(screen.getByLabelText('Role'), 'cache');
    expect(screen.getByText(/install it with the cache-node wizard/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Check (dry run)' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
