import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobInfo } from '../../../../shared/jobs.ts';
import { fake } from '../../lib/fake-api.ts';
import { jobTracker } from '../../lib/jobs.svelte.ts';
import LabOffer from './LabOffer.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const job = (patch: Partial<JobInfo>): JobInfo => ({ id: 'job-lab-0001', kind: 'lab.up', title: 'Start the demo lab', state: 'running', startedAt: 1, ...patch });

let unfollow: () => void;
beforeEach(() => {
  fake.reset();
  unfollow = jobTracker.follow();
});
afterEach(() => unfollow());

describe('the demo lab offer', () => {
  it('starts the lab and shows its progress, its log and its end', async () => {
    fake.answer('lab.preflight', () => ({ ok: true, problems: [] }));
    fake.answer('lab.up', () => ({ jobId: 'job-lab-0001' }));
    render(LabOffer);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Start the demo lab' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('lab.up', { caches: 1, nfs: false, addHosts: true });

    fake.emit('job.update', job({ progress: 0.4, message: 'Booting cache01' }));
    expect(await screen.findByText('Booting cache01')).toBeTruthy();
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(0.4);
    expect(screen.getByRole('button', { name: /Starting the lab/ }).getAttribute('aria-busy')).toBe('true');

    fake.emit('job.log', { id: 'job-lab-0001', stream: 'info', line: 'Added to the inventory: imgs, rw, home, cache01.', at: 2 });
    fake.emit('job.update', job({ state: 'done', progress: 1, message: 'The lab is up' }));
    expect(await screen.findByText(/its hosts are listed above/)).toBeTruthy();
    expect(screen.getByText(/Added to the inventory/)).toBeTruthy();
  });

  it('says in words why the lab cannot run here, with the fix, and offers no button', async () => {
    fake.answer('lab.preflight', () => ({
      ok: false,
      problems: [{ what: 'not running as root', fix: 'run npm start as root or with sudo' }],
    }));
    render(LabOffer);
    expect(await screen.findByText(/not running as root/)).toBeTruthy();
    expect(screen.getByText('run npm start as root or with sudo')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Start the demo lab' })).toBeNull();
  });

  it('shows a failed start as an error in words', async () => {
    fake.answer('lab.preflight', () => ({ ok: true, problems: [] }));
    fake.answer('lab.up', () => ({ jobId: 'job-lab-0001' }));
    render(LabOffer);
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Start the demo lab' }));
    fake.emit('job.update', job({ state: 'failed', error: { code: 'UNAVAILABLE', message: 'debootstrap failed: check the Debian mirror' } }));
    expect(await screen.findByText(/debootstrap failed/)).toBeTruthy();
  });
});
