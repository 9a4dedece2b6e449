import { render, screen, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Overview } from '../../../../shared/overview.ts';
import { formatTime } from '../../../../shared/units.ts';
import { scheduleView } from '../../../../test/fixtures/schedules.ts';
import { pushRecord } from '../../../../test/fixtures/transfer-records.ts';
import { fake } from '../../lib/fake-api.ts';
import { health } from '../../lib/health.svelte.ts';
import OverviewView from './OverviewView.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const AT = Date.UTC(2026, 11, 6, 7, 0);
const GiB = 2 ** 30;

const overview = (over: Partial<Overview> = {}): Overview => ({
  at: AT,
  lastLook: null,
  source: 'imgs',
  nodes: [
    { host: 'imgs', role: 'imgs', state: 'up', latencyMs: 1.2, disk: { sizeBytes: 100 * GiB, usedBytes: 40 * GiB, freeBytes: 60 * GiB }, diskProblem: null },
    { host: 'cache01', role: 'cache', state: 'up', latencyMs: 3.4, disk: { sizeBytes: 100 * GiB, usedBytes: 95 * GiB, freeBytes: 5 * GiB }, diskProblem: null },
    { host: 'rw', role: 'rw', state: 'down', latencyMs: null, disk: null, diskProblem: null },
  ],
  lag: [{ image: 'win10', cache: 'cache01', state: 'behind', missing: 2, sourceNewest: 5, newest: 3, newestAt: AT - 2 * 86_400_000 }],
  running: [pushRecord({ id: 'run-00001', state: 'running' })],
  queued: [],
  schedules: [],
  failures: [
    { kind: 'transfer', subject: 'win10@3 to cache01', at: AT - 3_600_000, message: 'btrfs receive: No space left on device', action: 'Read its log, fix the cause, then push it again.' },
    { kind: 'host', subject: 'rw', at: AT - 7_200_000, message: 'connect ETIMEDOUT', action: 'Check that rw is on and reachable.' },
  ],
  ...over,
});

beforeEach(() => {
  fake.reset();
  health.byHost = {};
});

const nightly = scheduleView({
  createdAt: AT - 86_400_000,
  lastRun: { startedAt: AT - 6000, endedAt: AT - 1000, outcome: 'failed', message: 'cache02: No space left on device', reason: 'its time came', transfers: [], pid: 1, host: 'console' },
  nextRunAt: AT + 3_600_000,
});

describe('the overview', () => {
  it('shows failures first with what to do, then nodes with btrfs disk use, caches behind imgs, transfers, and every schedule with its last and next run', async () => {
    fake.answer('overview.get', () => overview({ schedules: [nightly] }));
    render(OverviewView);
    const failures = await screen.findByRole('region', { name: /Failures on record \(2\)/ });
    expect(within(failures).getByText('btrfs receive: No space left on device')).toBeTruthy();
    expect(within(failures).getByText(/What to do: Check that rw is on and reachable/)).toBeTruthy();

    const nodes = screen.getByRole('region', { name: 'Nodes' });
    const cache = within(nodes).getByRole('rowheader', { name: 'cache01' }).closest('tr')!;
    expect(cache.textContent).toContain('95 %');
    expect(cache.textContent).toContain('5.00 GiB');
    expect((within(cache).getByRole('meter') as HTMLMeterElement).value).toBeCloseTo(0.95);
    expect(within(nodes).getByRole('rowheader', { name: 'rw' }).closest('tr')!.textContent).toContain('no image repository');

    const lag = screen.getByRole('region', { name: 'Caches against imgs' });
    const row = within(lag).getByRole('rowheader', { name: 'win10' }).closest('tr')!;
    expect([...row.querySelectorAll('td')].map((td) => td.textContent?.trim())).toEqual(['cache01', 'behind', '2', '3', '5', '2 d ago']);

    expect(screen.getByRole('region', { name: 'Transfers: 1 running, 0 queued' }).textContent).toContain('win10@3 from imgs to cache01');
    const schedules = screen.getByRole('region', { name: 'Schedules' }).textContent;
    expect(schedules).toContain('nightly');
    expect(schedules).toContain('last: FAILED');
    expect(schedules).toContain(`next: ${formatTime(AT + 3_600_000)}`);
  });

  it('follows health live, and "Mark as seen" acknowledges up to the overview shown, then reads again', async () => {
    let seen: number | null = null;
    fake.answer('overview.get', () => (seen === null ? overview() : overview({ lastLook: seen, failures: [] })));
    fake.answer('overview.ack', ({ at }) => ((seen = at ?? 0), { lastLook: seen }));
    render(OverviewView);
    const user = userEvent.setup();
    await screen.findByRole('region', { name: /Failures on record/ });

    health.byHost = { rw: { host: 'rw', state: 'up', latencyMs: 2, lastError: null, checkedAt: AT + 1, since: AT + 1 } };
    await vi.waitFor(() => expect(screen.getByRole('rowheader', { name: 'rw' }).closest('tr')!.textContent).toContain('up'));

    await user.click(screen.getByRole('button', { name: 'Mark as seen' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('overview.ack', { at: AT });
    const failures = await screen.findByRole('region', { name: /Failures since .* \(0\)/ });
    expect(within(failures).getByText(/Nothing failed since/)).toBeTruthy();
    expect(within(failures).queryByRole('button', { name: 'Mark as seen' })).toBeNull();
  });

  it('says why it could not read, and what to do', async () => {
    fake.answer('overview.get', () => {
      throw new Error('The core is out of reach.');
    });
    render(OverviewView);
    expect((await screen.findByRole('alert')).textContent).toContain('The core is out of reach.');
  });
});
