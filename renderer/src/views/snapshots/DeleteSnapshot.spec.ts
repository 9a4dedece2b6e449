import { render, screen, waitFor } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import { fake } from '../../lib/fake-api.ts';
import DeleteSnapshot from './DeleteSnapshot.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

afterEach(() => fake.reset());

const BLOCKER = 'win10@3 is the newest snapshot cache01 shares with imgs: without it the next push between them is a full send.';
const refused = () => new AppError('CONFLICT', `${BLOCKER}\nDelete it anyway with force.`, { blockers: [BLOCKER] });

async function ask(ondeleted = vi.fn()) {
  const user = userEvent.setup();
  render(DeleteSnapshot, { image: 'win10', number: 3, holders: ['imgs', 'cache01'], ondeleted });
  expect((screen.getByRole('button', { name: 'Delete…' }) as HTMLButtonElement).disabled).toBe(true);
  await user.selectOptions(screen.getByLabelText('Delete on'), 'cache01');
  await user.click(screen.getByRole('button', { name: 'Delete…' }));
  return { user, ondeleted };
}

const deletes = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'replication.deleteSnapshot').map(([, input]) => input);

describe('DeleteSnapshot', () => {
  it('asks in place, the focus on Keep, and deletes unforced', async () => {
    fake.answer('replication.deleteSnapshot', () => ({ deleted: 'cache01:win10@3' }));
    const { user, ondeleted } = await ask();
    expect(screen.getByText('Delete win10@3 on cache01? This cannot be undone.')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Keep' }));
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(deletes()).toEqual([{ node: 'cache01', image: 'win10', number: 3, force: false }]);
    await waitFor(() => expect(ondeleted).toHaveBeenCalledOnce());
    expect(screen.getByRole('button', { name: 'Delete…' })).toBeTruthy();
  });

  it('shows why a needed parent is refused and deletes it anyway only when asked again', async () => {
    fake.answer('replication.deleteSnapshot', ({ force }) => {
      if (!force) throw refused();
      return { deleted: 'cache01:win10@3' };
    });
    const { user, ondeleted } = await ask();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    const refusal = await screen.findByRole('alert');
    expect(refusal.textContent).toContain('cache01 still needs win10@3:');
    expect(refusal.textContent).toContain(BLOCKER);
    expect(refusal.textContent).toContain('The next push between these nodes sends the whole snapshot again.');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Keep' }));
    expect(ondeleted).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Delete anyway' }));
    expect(deletes()).toEqual([
      { node: 'cache01', image: 'win10', number: 3, force: false },
      { node: 'cache01', image: 'win10', number: 3, force: true },
    ]);
    await waitFor(() => expect(ondeleted).toHaveBeenCalledOnce());
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('Escape keeps the refused snapshot and gives the focus back', async () => {
    fake.answer('replication.deleteSnapshot', () => {
      throw refused();
    });
    const { user } = await ask();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await screen.findByRole('alert');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete…' }));
    expect(deletes()).toHaveLength(1);
  });

  it('shows any other failure in words instead of offering to force', async () => {
    fake.answer('replication.deleteSnapshot', () => {
      throw new AppError('NOT_FOUND', 'cache01 has no win10@3.');
    });
    const { user } = await ask();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect((await screen.findByRole('alert')).textContent).toContain('cache01 has no win10@3.');
    expect(screen.queryByRole('button', { name: 'Delete anyway' })).toBeNull();
  });
});
