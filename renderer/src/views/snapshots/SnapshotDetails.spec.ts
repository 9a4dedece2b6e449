import { render, screen, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../../shared/errors.ts';
import type { SnapshotInfo } from '../../../../shared/replication.ts';
import type { Snapshot } from '../../../../shared/snapshots.ts';
import { fake } from '../../lib/fake-api.ts';
import SnapshotDetails from './SnapshotDetails.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

afterEach(() => fake.reset());

const facts = (uuid: string): Snapshot => ({
  image: 'win10',
  number: 3,
  path: '/var/lib/icbd/.snap/win10/3',
  uuid,
  parentUuid: null,
  receivedUuid: null,
  readOnly: true,
  createdAt: Date.now() - 3 * 3_600_000,
  generation: 9,
  referencedBytes: null,
  exclusiveBytes: null,
});
const INFO: SnapshotInfo = {
  image: 'win10',
  number: 3,
  source: 'imgs',
  copies: [
    { node: 'imgs', role: 'imgs', state: 'present', snapshot: facts('00000003-0000-4000-8000-000000000000'), parent: 2, lineage: 'taken on imgs after win10@2', retention: { keep: true, why: ['the newest of the image', 'no retention policy: all are kept'], policy: 'keep all' } },
    {
      node: 'cache01',
      role: 'cache',
      state: 'present',
      snapshot: facts('00000003-0000-4000-8000-000000000001'),
      parent: 2,
      came: { transfer: 'a1a1a1a1-0002', from: 'imgs', kind: 'incremental', parent: 2, bytes: 41_943_040, at: 1, schedule: 'nightly' },
      lineage: 'from imgs by transfer a1a1a1a1 (schedule nightly) on 2026-12-06 02:10 UTC: incremental stream from 2, 40.0 MiB',
      retention: { keep: false, why: ['not kept by the policy (keep the newest 1)'], policy: 'keep the newest 1' },
    },
    { node: 'cache02', role: 'cache', state: 'missing', parent: null, lineage: 'not here: the last push of it here failed (transfer a1a1a1a1: No space left on device)' },
  ],
};

describe('SnapshotDetails', () => {
  it("shows each copy's lineage and retention's verdict with its reasons", async () => {
    fake.answer('replication.snapshotInfo', () => INFO);
    render(SnapshotDetails, { image: 'win10', number: 3 });
    const table = await screen.findByRole('table');
    const row = (node: string) => within(table).getByRole('row', { name: new RegExp(`^${node}\\b`) });
    expect(row('cache01').textContent).toContain('from imgs by transfer a1a1a1a1 (schedule nightly)');
    expect(within(row('cache01')).getByText('prune would delete it')).toBeTruthy();
    expect(row('cache01').textContent).toContain('not kept by the policy (keep the newest 1)');
    expect(within(row('imgs')).getByText('kept')).toBeTruthy();
    expect(row('imgs').textContent).toContain('the newest of the image');
    expect(row('cache02').textContent).toContain('No space left on device');
    expect(within(row('cache02')).queryByRole('button')).toBeNull();
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.snapshotInfo', { image: 'win10', number: 3 });
  });

  it('measures one copy on request, and says in words when it cannot', async () => {
    fake.answer('replication.snapshotInfo', () => INFO);
    fake.answer('replication.measure', ({ node }) => {
      if (node === 'imgs') throw new AppError('REMOTE_FAILED', 'Measuring win10@3 (btrfs filesystem du) on imgs failed: Permission denied');
      return { node, path: '/var/lib/icbd/.snap/win10/3', totalBytes: 68_157_440, exclusiveBytes: 1_376_256, sharedBytes: 66_781_184 };
    });
    const user = userEvent.setup();
    render(SnapshotDetails, { image: 'win10', number: 3 });
    await user.click(await screen.findByRole('button', { name: 'Measure on cache01' }));
    expect(await screen.findByText('1.31 MiB exclusive')).toBeTruthy();
    expect(screen.getByText('of 65.0 MiB')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Measure on imgs' }));
    expect(await screen.findByText(/on imgs failed: Permission denied/)).toBeTruthy();
    expect(fake.api.invoke).toHaveBeenCalledWith('replication.measure', { node: 'cache01', image: 'win10', number: 3 });
  });

  it('a snapshot no node has any more: the error in words', async () => {
    fake.answer('replication.snapshotInfo', () => {
      throw new AppError('NOT_FOUND', 'No node has win10@3: refresh the tree.');
    });
    render(SnapshotDetails, { image: 'win10', number: 3 });
    expect(await screen.findByText(/No node has win10@3: refresh the tree/)).toBeTruthy();
  });
});
