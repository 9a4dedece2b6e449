import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { Host } from '../../../../shared/inventory.ts';
import type { ScheduleList, ScheduleRun, ScheduleView } from '../../../../shared/schedules.ts';
import { scheduleView } from '../../../../test/fixtures/schedules.ts';
import { fake } from '../../lib/fake-api.ts';
import { hostList } from '../../lib/hosts.svelte.ts';
import { schedules } from '../../lib/schedules.svelte.ts';
import ScheduleFailures from './ScheduleFailures.svelte';
import SchedulesView from './SchedulesView.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const HOUR = 3_600_000;
const cache = (name: string): Host => ({ name, address: `10.0.0.${name.length}`, port: 22, user: 'root', role: 'cache', jump: 'imgs' });

function view(over: Partial<ScheduleView>): ScheduleView {
  return scheduleView({ createdAt: Date.now() - 48 * HOUR, nextRunAt: Date.now() + 5 * HOUR, runner: 'pid 42 on mgmt01 (daemon)', ...over });
}

const failedRun: ScheduleRun = {
  startedAt: Date.now() - 2 * HOUR,
  endedAt: Date.now() - 2 * HOUR + 60_000,
  outcome: 'failed',
  message: 'win10@4 → cache02: failed, No space left on device',
  reason: 'its time came',
  transfers: ['aaaaaaaa-1111'],
  pid: 42,
  host: 'mgmt01',
};

let unfollow: () => void;
let current: ScheduleList;

beforeEach(() => {
  fake.reset();
  current = { schedules: [], notify: null };
  fake.answer('schedules.list', () => current);
  unfollow = schedules.follow();
});
afterEach(() => {
  unfollow();
  for (const f of schedules.failures) schedules.dismiss(f.name);
});

describe('the Schedules view', () => {
  it('lists each schedule with what, when, how, its last and next run; a failure says why and what to do', async () => {
    current.schedules = [
      view({ rateLimit: 50 * 2 ** 20, window: { from: '20:00', to: '06:00' }, lastRun: failedRun }),
      view({ name: 'win10-fast', images: ['win10'], caches: ['cache01', 'cache02'], when: { kind: 'snapshot', withinMinutes: 10 }, nextRunAt: null, lastRun: { ...failedRun, outcome: 'ok', message: 'Sent win10@4.' } }),
    ];
    render(SchedulesView);
    const nightly = await screen.findByRole('row', { name: 'Schedule nightly' });
    expect(nightly.textContent).toContain('daily at 02:00, only 20:00–06:00');
    expect(nightly.textContent).toContain('every carried image → every cache');
    expect(nightly.textContent).toContain('direct · auto · ≤ 50.0 MiB/s');
    expect(nightly.textContent).toContain('failed');
    expect(nightly.textContent).toContain('(in 5 h)');
    expect(screen.getByText(/its time came: win10@4 → cache02: failed, No space left on device/)).toBeTruthy();
    const fast = screen.getByRole('row', { name: 'Schedule win10-fast' });
    expect(fast.textContent).toContain('win10 → cache01, cache02');
    expect(fast.textContent).toContain('on a new snapshot, within 10 min');
    expect(fast.textContent).toContain('ok');
    expect(screen.getByText('run by pid 42 on mgmt01 (daemon)')).toBeTruthy();
    // A failure from before the window opened is known too: the Hosts view announces it until dismissed.
    expect(schedules.failures.map((f) => f.name)).toEqual(['nightly']);
  });

  it('runs a schedule now, and removes one only once asked, Keep being the safe answer', async () => {
    current.schedules = [view({})];
    fake.answer('schedules.runNow', () => ({ ...failedRun, outcome: 'running', message: 'Started.', reason: 'run now by the operator' }));
    fake.answer('schedules.remove', ({ name }) => {
      current = { ...current, schedules: [] };
      return { removed: name };
    });
    const user = userEvent.setup();
    render(SchedulesView);
    const row = await screen.findByRole('row', { name: 'Schedule nightly' });
    await user.click(within(row).getByRole('button', { name: 'Run now' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('schedules.runNow', { name: 'nightly' });
    await user.click(within(row).getByRole('button', { name: 'Remove…' }));
    expect(document.activeElement).toBe(within(row).getByRole('button', { name: 'Keep' }));
    await user.keyboard('{Escape}');
    expect(document.activeElement).toBe(within(row).getByRole('button', { name: 'Remove…' }));
    expect(fake.api.invoke).not.toHaveBeenCalledWith('schedules.remove', expect.anything());
    await user.click(within(row).getByRole('button', { name: 'Remove…' }));
    await user.click(within(row).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.queryByRole('row', { name: 'Schedule nightly' })).toBeNull());
    expect(fake.api.invoke).toHaveBeenCalledWith('schedules.remove', { name: 'nightly' });
  });

  it('adds a schedule from the words an operator types; wrong words are caught before anything is sent', async () => {
    fake.answer('hosts.list', () => [cache('cache01'), cache('cache02')]);
    await hostList.refresh();
    let sent: unknown;
    fake.answer('schedules.add', (input) => {
      sent = input;
      if (input.schedule.name === 'taken') throw new AppError('CONFLICT', 'There is already a schedule named taken.', { field: 'name' });
      return { ...view({}), ...input.schedule } as ScheduleView;
    });
    const user = userEvent.setup();
    render(SchedulesView);
    await user.click(await screen.findByRole('button', { name: 'New schedule…' }));
    const form = screen.getByRole('form', { name: 'New schedule' });
    expect(document.activeElement).toBe(within(form).getByLabelText('Name'));
    await user.keyboard('taken');
    await user.selectOptions(within(form).getByLabelText('Kind of schedule'), 'interval');
    await user.clear(within(form).getByLabelText('When'));
    await user.type(within(form).getByLabelText('When'), 'often');
    await user.type(within(form).getByLabelText('Only between'), 'at night');
    await user.click(within(form).getByRole('button', { name: 'Add schedule' }));
    expect(within(form).getByText(/a duration like 10m, 6h or 1d/)).toBeTruthy();
    expect(within(form).getByText(/HH:MM-HH:MM/)).toBeTruthy();
    expect(sent).toBeUndefined();

    await user.clear(within(form).getByLabelText('When'));
    await user.type(within(form).getByLabelText('When'), '6h');
    await user.clear(within(form).getByLabelText('Only between'));
    await user.type(within(form).getByLabelText('Only between'), '20:00-06:00');
    await user.type(within(form).getByLabelText('Rate cap'), '50M');
    await user.click(within(form).getByRole('checkbox', { name: 'cache02' }));
    await user.click(within(form).getByRole('button', { name: 'Add schedule' }));
    // The core's refusal lands on its field.
    await waitFor(() => expect(within(form).getByLabelText('Name').getAttribute('aria-invalid')).toBe('true'));
    expect(sent).toEqual({
      schedule: { name: 'taken', images: [], caches: ['cache02'], when: { kind: 'interval', minutes: 360 }, mode: 'direct', compression: 'auto', rateLimit: 50 * 2 ** 20, window: { from: '20:00', to: '06:00' } },
    });

    await user.clear(within(form).getByLabelText('Name'));
    await user.type(within(form).getByLabelText('Name'), 'six-hourly{Enter}');
    await waitFor(() => expect(screen.queryByRole('form', { name: 'New schedule' })).toBeNull());
  });

  it('a scheduled run that fails while the window is open is announced at once, and can be dismissed', async () => {
    const user = userEvent.setup();
    render(ScheduleFailures);
    expect(screen.queryByRole('alert', { name: 'Schedule nightly failed' })).toBeNull();
    fake.emit('schedule.failed', { name: 'nightly', run: failedRun });
    const alert = await screen.findByRole('alert', { name: 'Schedule nightly failed' });
    expect(alert.textContent).toContain('No space left on device');
    expect(within(alert).getByRole('link', { name: 'Transfers' }).getAttribute('href')).toBe('#/transfers');
    await user.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert', { name: 'Schedule nightly failed' })).toBeNull();
  });
});
