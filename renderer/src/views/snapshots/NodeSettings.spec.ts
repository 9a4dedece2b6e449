import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { RepoSettings } from '../../../../shared/snapshots.ts';
import { fake } from '../../lib/fake-api.ts';
import NodeSettings from './NodeSettings.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

afterEach(() => fake.reset());

const nodes = [
  { name: 'imgs', role: 'imgs' as const },
  { name: 'cache01', role: 'cache' as const },
];
const stored: Record<string, RepoSettings> = {
  imgs: { root: '/var/lib/icbd/.snap', workRoot: '/var/lib/icbd/shared-vms', images: 'all', maxTransfers: 2 },
  // linux is gone from the source but still on the list.
  cache01: { root: '/var/lib/icbd/.snap', workRoot: '/var/lib/icbd/shared-vms', images: ['linux'], maxTransfers: 2, replicationAddress: '10.9.0.11' },
};

function show(onsaved = vi.fn()) {
  fake.answer('replication.settings.get', ({ node }) => [{ node: node!, settings: stored[node!]! }]);
  render(NodeSettings, { nodes, images: ['win10', 'xp'], onsaved, onclose: () => undefined });
  return { user: userEvent.setup(), onsaved };
}

const box = (name: string) => screen.getByRole('checkbox', { name }) as HTMLInputElement;
const sets = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'replication.settings.set').map(([, input]) => input);

describe('NodeSettings', () => {
  it("opens on a replica, lists the source's images and the saved ones, and saves a chosen list", async () => {
    fake.answer('replication.settings.set', ({ node, settings }) => ({ node, settings: { ...stored.imgs!, images: settings.images!, maxTransfers: settings.maxTransfers! } }));
    const { user, onsaved } = show();
    const carried = await screen.findByRole('group', { name: 'Carried images' });
    expect((screen.getByRole('combobox', { name: 'Node' }) as HTMLSelectElement).value).toBe('cache01');
    expect(within(carried).getAllByRole('checkbox').map((b) => b.closest('label')!.textContent!.trim())).toEqual(['linux', 'win10', 'xp']);
    expect(box('linux').checked).toBe(true);
    expect(screen.queryByLabelText('Working images')).toBeNull();

    await user.click(box('linux'));
    await user.click(box('win10'));
    await user.clear(screen.getByLabelText('Replication address'));
    await user.clear(screen.getByLabelText('Transfers at once'));
    await user.type(screen.getByLabelText('Transfers at once'), '4');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(sets()).toEqual([{ node: 'cache01', settings: { root: '/var/lib/icbd/.snap', maxTransfers: 4, replicationAddress: null, images: ['win10'] } }]);
    expect((await screen.findByRole('status')).textContent).toBe('Saved: cache01 carries win10.');
    expect(onsaved).toHaveBeenCalledOnce();
  });

  it('shows the resume wait (30 min when the node sets none) and saves it only when changed', async () => {
    fake.answer('replication.settings.set', ({ node, settings }) => ({ node, settings: { ...stored.cache01!, ...settings } as RepoSettings }));
    const { user } = show();
    const wait = (await screen.findByLabelText('Resume wait (min)')) as HTMLInputElement;
    expect(wait.value).toBe('30');
    await user.clear(wait);
    await user.type(wait, '90');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(sets()[0]).toMatchObject({ node: 'cache01', settings: { resumeWaitMinutes: 90 } });
  });

  it('says that a replica with nothing ticked is left out of sync, and saves "all" with the boxes off', async () => {
    fake.answer('replication.settings.set', ({ node, settings }) => ({ node, settings: { ...stored.imgs!, images: settings.images! } }));
    const { user } = show();
    await screen.findByRole('group', { name: 'Carried images' });
    await user.click(box('linux'));
    expect(screen.getByText('None ticked: sync leaves cache01 out.')).toBeTruthy();
    await user.click(screen.getByRole('radio', { name: /^All/ }));
    expect(box('win10').disabled).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(sets()[0]).toMatchObject({ node: 'cache01', settings: { images: 'all' } });
    expect((await screen.findByRole('status')).textContent).toBe('Saved: cache01 carries every image.');
  });

  it('shows the source with its working images and no image list, and puts the core’s verdict under its field', async () => {
    fake.answer('replication.settings.set', () => {
      throw new AppError('INVALID_INPUT', 'settings.root: A repository path is absolute (starts with /).', {
        issues: [{ path: 'settings.root', message: 'A repository path is absolute (starts with /).' }],
      });
    });
    const { user } = show();
    await screen.findByRole('group', { name: 'Carried images' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Node' }), 'imgs');
    await waitFor(() => expect((screen.getByLabelText('Working images') as HTMLInputElement).value).toBe('/var/lib/icbd/shared-vms'));
    expect(screen.queryByRole('group', { name: 'Carried images' })).toBeNull();
    const root = screen.getByLabelText('Repository');
    await user.clear(root);
    await user.type(root, 'snap');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(sets()[0]).toEqual({ node: 'imgs', settings: { root: 'snap', maxTransfers: 2, replicationAddress: null, workRoot: '/var/lib/icbd/shared-vms' } });
    await waitFor(() => expect(root.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('A repository path is absolute (starts with /).')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
