import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fake } from '../../lib/fake-api.ts';
import { transferMonitor } from '../../lib/transfers.svelte.ts';
import { pushRecord, uploadRecord } from '../../../../test/fixtures/transfer-records.ts';
import TransfersView from './TransfersView.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);
// jsdom has no canvas: the chart is Chart.js's business, tested in the e2e run.
vi.mock('./RateChart.svelte', async () => ({ default: (await import('./RateChartStub.svelte')).default }));

const running = pushRecord({
  mode: 'tcp',
  state: 'running',
  bytes: 512 * 2 ** 20,
  rate: 100 * 2 ** 20,
  fraction: 0.5,
  etaSeconds: 5,
  startedAt: Date.now() - 5000,
});

const upload = uploadRecord({
  id: 'bbbbbbbb-2222',
  file: '/home/op/netinst.iso',
  into: { iso: true },
  dir: '/var/lib/icbd/iso',
  name: 'netinst.iso',
  state: 'running',
  bytes: 300 * 2 ** 20,
  totalBytes: 600 * 2 ** 20,
  rate: 60 * 2 ** 20,
  fraction: 0.5,
  etaSeconds: 5,
  queuedAt: 2,
  startedAt: Date.now() - 5000,
});

afterEach(() => fake.reset());

describe('the transfer monitor', () => {
  it('shows progress against the estimate, says tcp is unencrypted, and cancels', async () => {
    fake.answer('transfers.list', () => [running]);
    fake.answer('transfers.cancel', () => ({ cancelled: true }));
    const off = transferMonitor.follow();
    render(TransfersView);
    const item = await screen.findByRole('listitem', { name: /Transfer win10@3 to cache01/ });
    expect(item.textContent).toContain('512 MiB of 1.00 GiB');
    expect(item.textContent).toContain('50 %');
    expect(item.textContent).toContain('ETA 5 s');
    expect(item.textContent).toContain('tcp (unencrypted)');
    expect(within(item).getByRole<HTMLProgressElement>('progressbar', { name: 'Transfer win10@3 to cache01' }).value).toBe(0.5);
    // No estimate yet: the bar is busy, not a 0 % that looks stuck.
    fake.emit('transfer.update', { ...running, totalBytes: null, fraction: null, etaSeconds: null });
    await waitFor(() => expect(within(item).getByRole('progressbar').hasAttribute('value')).toBe(false));
    await userEvent.setup().click(within(item).getByRole('button', { name: 'Cancel' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('transfers.cancel', { id: running.id });
    fake.emit('transfer.update', { ...running, state: 'cancelled', endedAt: Date.now() });
    await waitFor(() => expect(within(item).queryByRole('button', { name: 'Cancel' })).toBeNull());
    off();
  });

  it('says what a push waits for, and offers Resume for one its console left with bytes staged', async () => {
    const waiting = { ...running, id: 'dddddddd-4444', number: 5, mode: 'direct' as const, waiting: 'link to cache01 down since 14:02, retrying (gives up after 30 min)' };
    const interrupted = pushRecord({ id: 'cccccccc-3333', number: 4, state: 'failed', resumable: true, endedAt: Date.now(), error: { code: 'UNAVAILABLE', message: 'Interrupted: its console went away.' } });
    fake.answer('transfers.list', () => [waiting, interrupted]);
    fake.answer('transfers.resume', () => [{ ...interrupted, state: 'queued' }]);
    const off = transferMonitor.follow();
    await transferMonitor.refresh();
    render(TransfersView);
    const item = await screen.findByRole('listitem', { name: /Transfer win10@5 to cache01/ });
    expect(within(item).getByRole('status').textContent).toBe('link to cache01 down since 14:02, retrying (gives up after 30 min)');
    expect(within(item).queryByRole('button', { name: 'Resume' })).toBeNull();
    const left = await screen.findByRole('listitem', { name: /Transfer win10@4 to cache01/ });
    await userEvent.setup().click(within(left).getByRole('button', { name: 'Resume' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('transfers.resume', { id: interrupted.id });
    off();
  });

  it('shows an upload like a push, saying it is an upload, from where and to which file', async () => {
    fake.answer('transfers.list', () => [upload, running]);
    fake.answer('transfers.cancel', () => ({ cancelled: true }));
    const off = transferMonitor.follow();
    await transferMonitor.refresh();
    render(TransfersView);
    const item = await screen.findByRole('listitem', { name: 'Upload netinst.iso to imgs' });
    expect(item.querySelector('.op')!.textContent).toBe('upload');
    expect(item.querySelector('.what')!.textContent).toBe('upload netinst.iso into iso → imgs');
    expect(item.textContent).toContain("From the operator's machine (ws1): /home/op/netinst.iso → imgs:/var/lib/icbd/iso/netinst.iso");
    expect(item.textContent).toContain('300 MiB of 600 MiB');
    expect(item.textContent).toContain('50 %');
    expect(screen.getByRole('listitem', { name: /Transfer win10@3/ }).querySelector('.op')!.textContent).toBe('push');
    await userEvent.setup().click(within(item).getByRole('button', { name: 'Cancel' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('transfers.cancel', { id: upload.id });
    fake.emit('transfer.update', { ...upload, state: 'done', bytes: 600 * 2 ** 20, fraction: 1, endedAt: Date.now() });
    await waitFor(() => expect(item.textContent).toContain('100 %'));
    off();
  });
});
