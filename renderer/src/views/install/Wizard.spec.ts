import { render, screen, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InstallState } from '../../../../shared/install.ts';
import { fake } from '../../lib/fake-api.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import { jobTracker } from '../../lib/jobs.svelte.ts';
import { PLAN } from './plan-fixture.ts';
import Wizard from './Wizard.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const settings: InstallState['settings'] = {
  role: 'cache',
  platform: { imgs: '10.213.2.251', home: '10.213.2.12', data: '10.213.2.11', clients: '10.213.2.0/24' },
  cache: { number: 1, clientSubnet: '10.213.101.0/24' },
  nfs: false,
  disk: '/dev/vdb',
};
const DISKS = {
  distribution: 'Debian GNU/Linux 12 (bookworm)',
  preflight: [{ level: 'info' as const, message: 'Debian GNU/Linux 12 (bookworm) (debian).' }],
  disks: [
    { device: '/dev/vda', nodes: ['/dev/vda'], size: 16 * 2 ** 30, type: 'disk', fstype: '', problems: ['it has partitions', 'it is mounted (/)'] },
    { device: '/dev/vdb', nodes: ['/dev/loop3', '/dev/vdb'], size: 4 * 2 ** 30, type: 'loop', fstype: '', problems: [] },
  ],
};

let unfollow: () => void;
beforeEach(() => {
  fake.reset();
  unfollow = jobTracker.follow();
  hostList.hosts = [{ name: 'cache01', address: '10.213.2.101', port: 22, user: 'root', role: 'cache', jump: 'imgs' }];
  fake.answer('install.disks', () => DISKS);
  fake.answer('install.plan', () => PLAN);
  fake.answer('jobs.list', () => []);
});
afterEach(() => unfollow());

describe('the cache-node wizard', () => {
  it('offers only the empty disk and says why the others are refused', async () => {
    let saved: InstallState = { host: 'cache01', settings: { ...settings, disk: undefined }, proposed: true };
    fake.answer('install.state', () => saved);
    fake.answer('install.remember', (input) => (saved = { ...saved, ...(input.settings && { settings: input.settings }), ...(input.stage && { stage: input.stage }), proposed: false }));
    render(Wizard);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'cache01' }));
    expect((await screen.findAllByText(/Debian GNU\/Linux 12/)).length).toBeGreaterThan(0);
    await user.click(screen.getByRole('button', { name: 'Continue to the disk' }));
    const radios = await screen.findAllByRole('radio');
    expect(radios).toHaveLength(1);
    expect(screen.getByText(/it has partitions; it is mounted \(\/\)/)).toBeTruthy();
    await user.click(radios[0]!);
    expect(fake.api.invoke).toHaveBeenCalledWith('install.remember', { host: 'cache01', settings: { ...settings, disk: '/dev/vdb', nfs: false } });
    // the stepper lets the operator go back to any stage reached, from the keyboard
    const stepper = screen.getByRole('navigation', { name: 'Cache-node wizard stages' });
    expect(within(stepper).getByRole('button', { name: /Disk/ }).getAttribute('aria-current')).toBe('step');
    expect(within(stepper).queryByRole('button', { name: /Review/ })).toBeNull();
  });

  it('resumes at the saved stage, and applies only once the device name is typed', async () => {
    fake.answer('install.state', () => ({ host: 'cache01', settings, proposed: false, stage: 'review' }));
    fake.answer('install.remember', (input) => ({ host: 'cache01', settings, proposed: false, ...(input.stage && { stage: input.stage }) }));
    fake.answer('install.apply', () => ({ jobId: 'job-install-01' }));
    render(Wizard);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'cache01' }));
    expect(await screen.findByText('$ mkfs.btrfs -L icbd /dev/vdb')).toBeTruthy();
    const apply = screen.getByRole('button', { name: 'Apply 2 changes' }) as HTMLButtonElement;
    expect(apply.disabled).toBe(true);
    await user.type(screen.getByLabelText(/Type \/dev\/vdb to confirm/), '/dev/vd');
    expect(apply.disabled).toBe(true);
    await user.type(screen.getByLabelText(/Type \/dev\/vdb to confirm/), 'b');
    expect(apply.disabled).toBe(false);
    await user.click(apply);
    expect(fake.api.invoke).toHaveBeenCalledWith('install.apply', { host: 'cache01', role: 'cache', platform: settings.platform, nfs: false, cache: settings.cache, confirmDisk: '/dev/vdb' });

    fake.emit('job.update', { id: 'job-install-01', kind: 'install.apply', title: 'Install cache on cache01', state: 'running', progress: 0.5, message: 'Mounts (/etc/fstab): 42 changes', startedAt: 1 });
    fake.emit('job.log', { id: 'job-install-01', stream: 'info', line: 'ok     mount /etc/hosts', at: 2 });
    expect(await screen.findByText('Mounts (/etc/fstab): 42 changes')).toBeTruthy();
    expect(screen.getByLabelText('Command log').textContent).toContain('ok     mount /etc/hosts');
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(0.5);
  });

  it('says when the last run was interrupted, and checks the host again from there', async () => {
    fake.answer('install.state', () => ({
      host: 'cache01',
      settings,
      proposed: false,
      stage: 'apply',
      run: { kind: 'apply', jobId: 'job-gone-0001', state: 'interrupted', step: 'mounts', startedAt: 1, pid: 1 },
    }));
    fake.answer('install.remember', (input) => ({ host: 'cache01', settings, proposed: false, ...(input.stage && { stage: input.stage }) }));
    render(Wizard);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'cache01' }));
    expect(await screen.findByText(/stopped during the step "mounts"/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Check the host again' }));
    expect(await screen.findByText('$ mkfs.btrfs -L icbd /dev/vdb')).toBeTruthy();
  });
});
