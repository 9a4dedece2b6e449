import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobInfo } from '../../../shared/jobs.ts';
import { pushRecord, uploadRecord } from '../../../test/fixtures/transfer-records.ts';
import { fake } from './fake-api.ts';
import { notifyEndsWhileAway } from './notifications.ts';

vi.mock('./api.ts', async () => (await import('./fake-api.ts')).apiModule);

/** The Web Notification API as the page sees it, recording what would be shown. */
function fakeNotification(permission: NotificationPermission) {
  const shown: { title: string; body?: string; tag?: string }[] = [];
  const N = class {
    static permission = permission;
    static requestPermission = vi.fn(async () => N.permission);
    onclick: (() => void) | null = null;
    constructor(title: string, o: NotificationOptions = {}) {
      shown.push({ title, ...(o.body !== undefined && { body: o.body }), ...(o.tag !== undefined && { tag: o.tag }) });
    }
    close() {}
  };
  return { N, shown };
}

const job = (over: Partial<JobInfo>): JobInfo => ({ id: 'job-0001-abcd', kind: 'install.apply', title: 'Install cache on cache01', state: 'running', startedAt: 1, ...over });

afterEach(() => fake.reset());

describe('notifications of long jobs', () => {
  it('tells of an install that ends, or a transfer that fails, while the window is not focused', () => {
    const { N, shown } = fakeNotification('granted');
    let focused = false;
    const off = notifyEndsWhileAway({ Notification: N as unknown as typeof Notification, focused: () => focused });
    fake.emit('job.update', job({}));
    fake.emit('job.update', job({ state: 'done', message: 'cache01 is installed as cache and verified.' }));
    const push = pushRecord({ id: 'aaaaaaaa-1111', state: 'running' });
    fake.emit('transfer.update', push);
    fake.emit('transfer.update', { ...push, state: 'failed', error: { code: 'REMOTE_FAILED', message: 'cache01: No space left on device.' } });
    expect(shown).toEqual([
      { title: 'Done: Install cache on cache01', body: 'cache01 is installed as cache and verified.', tag: 'job-0001-abcd' },
      { title: 'Failed: Transfer win10@3 → cache01', body: 'cache01: No space left on device.', tag: 'aaaaaaaa-1111' },
    ]);
    // In front of the operator, the window says it itself.
    focused = true;
    const upload = uploadRecord({ id: 'bbbbbbbb-2222', state: 'running' });
    fake.emit('transfer.update', upload);
    fake.emit('transfer.update', { ...upload, state: 'done' });
    expect(shown).toHaveLength(2);
    off();
  });

  it('says nothing of a cancel, of short jobs, or of ends it did not see start (history after a reload)', () => {
    const { N, shown } = fakeNotification('granted');
    const off = notifyEndsWhileAway({ Notification: N as unknown as typeof Notification, focused: () => false });
    fake.emit('job.update', job({ id: 'job-0002-abcd', kind: 'ssh.exec' }));
    fake.emit('job.update', job({ id: 'job-0002-abcd', kind: 'ssh.exec', state: 'done' }));
    const push = pushRecord({ id: 'aaaaaaaa-1111', state: 'running' });
    fake.emit('transfer.update', push);
    fake.emit('transfer.update', { ...push, state: 'cancelled' });
    fake.emit('transfer.update', pushRecord({ id: 'cccccccc-3333', state: 'done' }));
    expect(shown).toEqual([]);
    off();
  });

  it('asks for the permission when the first long job starts, once, and shows nothing without it', () => {
    const { N, shown } = fakeNotification('default');
    const off = notifyEndsWhileAway({ Notification: N as unknown as typeof Notification, focused: () => false });
    fake.emit('transfer.update', pushRecord({ id: 'aaaaaaaa-1111', state: 'queued' }));
    fake.emit('transfer.update', pushRecord({ id: 'aaaaaaaa-1111', state: 'running' }));
    fake.emit('job.update', job({}));
    expect(N.requestPermission).toHaveBeenCalledTimes(1);
    fake.emit('job.update', job({ state: 'failed' }));
    expect(shown).toEqual([]);
    off();
  });
});
