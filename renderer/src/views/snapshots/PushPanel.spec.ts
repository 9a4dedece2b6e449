import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import { fake } from '../../lib/fake-api.ts';
import PushPanel from './PushPanel.svelte';
import { group, noKey, pushPlan } from './plan-fixtures.ts';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const props = { source: 'imgs', image: 'win10', number: 3, nodes: ['imgs', 'cache01', 'cache02'], missing: ['cache01', 'cache02'], onclose: () => undefined };
const lacking = pushPlan({ groups: [group(['cache01'])], skipped: [noKey('cache02')], setupKeys: { from: 'imgs', to: ['cache02'] } });
const whole = pushPlan({ groups: [group(['cache01', 'cache02'])] });

afterEach(() => fake.reset());

const plans = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'replication.planPush').length;

describe('PushPanel', () => {
  it('shows why imgs cannot reach a cache, sets up node keys after saying what changes, and plans again', async () => {
    const answers = [lacking, whole];
    fake.answer('replication.planPush', () => answers.shift()!);
    fake.answer('replication.setupKeys', () => [{ node: 'cache02', ok: true, detail: 'imgs reaches cache02 as root' }]);
    const user = userEvent.setup();
    render(PushPanel, props);

    await user.click(screen.getByRole('button', { name: 'Show plan' }));
    const offer = await screen.findByRole('region', { name: 'Node keys' });
    expect(offer.textContent).toContain("imgs's root cannot log in to cache02 over SSH");
    expect(offer.textContent).toContain('Permission denied (publickey)');
    // The reason is said once, in the offer, not again as a skipped receiver.
    expect(screen.queryByText(/Skipped cache02/)).toBeNull();
    expect(screen.getByLabelText('Plan').textContent).toContain('full → cache01');
    // The core would refuse the push while a receiver lacks keys.
    expect((screen.getByRole('button', { name: 'Start push' }) as HTMLButtonElement).disabled).toBe(true);

    await user.click(within(offer).getByRole('button', { name: 'Set up node keys' }));
    const question = within(offer).getByRole('group', { name: 'Confirm setting up node keys' });
    expect(question.textContent).toContain("imgs's replication key (made if it has none) is accepted in /root/.ssh/authorized_keys on cache02 from imgs's addresses only, for the receive wrapper /usr/local/sbin/icbd-receive alone (placed there too): not a shell, not root;");
    expect(question.textContent).toMatch(/host keys of cache02, read over the console's own verified connection, go into \/root\/\.ssh\/known_hosts on imgs, in\s+place of any older line/);
    expect(question.textContent).toContain('audit log');
    expect(document.activeElement).toBe(within(question).getByRole('button', { name: 'Not now' }));
    await user.keyboard('{Escape}');
    expect(within(offer).queryByRole('group')).toBeNull();
    expect(document.activeElement).toBe(within(offer).getByRole('button', { name: 'Set up node keys' }));
    expect(fake.api.invoke).not.toHaveBeenCalledWith('replication.setupKeys', expect.anything());

    await user.click(within(offer).getByRole('button', { name: 'Set up node keys' }));
    await user.click(screen.getByRole('button', { name: 'Set up keys' }));
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.setupKeys', { from: 'imgs', to: ['cache02'] });
    const results = await screen.findByRole('status', { name: 'Node keys results' });
    expect(results.textContent).toContain('cache02: keys set up — imgs reaches cache02 as root');
    await waitFor(() => expect(plans()).toBe(2));
    await waitFor(() => expect(screen.getByLabelText('Plan').textContent).toContain('full → cache01, cache02'));
    expect(screen.queryByRole('region', { name: 'Node keys' })).toBeNull();
    expect(screen.getByRole('status', { name: 'Node keys results' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Start push' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('says which node the keys could not be set up on, and keeps offering', async () => {
    fake.answer('replication.planPush', () => lacking);
    fake.answer('replication.setupKeys', () => [{ node: 'cache02', ok: false, detail: "cache02's host keys in root's known_hosts failed: Read-only file system" }]);
    const user = userEvent.setup();
    render(PushPanel, props);
    await user.click(screen.getByRole('button', { name: 'Show plan' }));
    await user.click(await screen.findByRole('button', { name: 'Set up node keys' }));
    await user.click(screen.getByRole('button', { name: 'Set up keys' }));
    const results = await screen.findByRole('status', { name: 'Node keys results' });
    expect(results.textContent).toContain('cache02: keys not set up — cache02');
    expect(results.textContent).toContain('Read-only file system');
    await waitFor(() => expect(plans()).toBe(2));
    expect(screen.getByRole('region', { name: 'Node keys' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Start push' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('keeps the question open with the reason when setting up fails on the source', async () => {
    fake.answer('replication.planPush', () => lacking);
    fake.answer('replication.setupKeys', () => {
      throw new AppError('REMOTE_FAILED', "root's SSH key (made if missing) on imgs failed: ssh-keygen: not found");
    });
    const user = userEvent.setup();
    render(PushPanel, props);
    await user.click(screen.getByRole('button', { name: 'Show plan' }));
    await user.click(await screen.findByRole('button', { name: 'Set up node keys' }));
    await user.click(screen.getByRole('button', { name: 'Set up keys' }));
    expect((await screen.findByRole('alert')).textContent).toContain('ssh-keygen: not found');
    expect(screen.getByRole('group', { name: 'Confirm setting up node keys' })).toBeTruthy();
    expect(plans()).toBe(1);
  });
});
