import { EventEmitter } from 'node:events';
import type { BrowserWindow } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { EventName, EventPayload, Reply, RequestName } from '../../../shared/contract.ts';
import type { TransferRecord } from '../../../shared/transfers.ts';
import { guardTransfers } from '../../../electron/main/transfer-guard.ts';
import { pushRecord, uploadRecord } from '../../fixtures/transfer-records.ts';

/**
 * The main process's guard over running transfers, with Electron's app, dialog and
 * powerSaveBlocker as stand-ins (the binary cannot run here) and a core that only passes events.
 */
function setup(answer: 0 | 1) {
  const bus = new EventEmitter();
  const cancelled: string[] = [];
  const core = {
    on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) {
      bus.on(name, listener);
      return () => void bus.off(name, listener);
    },
    async dispatch(name: RequestName, input: unknown): Promise<Reply> {
      expect(name).toBe('transfers.cancel');
      const { id } = input as { id: string };
      cancelled.push(id);
      // The core reports the cancelled transfer as finished a moment later, after its clean-up.
      setTimeout(() => bus.emit('transfer.update', { ...records.get(id)!, state: 'cancelled' }), 5);
      return { ok: true, value: { cancelled: true } };
    },
  };
  const records = new Map<string, TransferRecord>();
  const update = (r: TransferRecord) => {
    records.set(r.id, r);
    bus.emit('transfer.update', r);
  };
  const appListeners = new Map<string, (event: { preventDefault(): void }) => void>();
  const app = { on: vi.fn((name: string, l: (event: { preventDefault(): void }) => void) => appListeners.set(name, l)), quit: vi.fn() };
  const dialog = { showMessageBox: vi.fn(async () => ({ response: answer, checkboxChecked: false })) };
  const powerSaveBlocker = { start: vi.fn(() => 7), stop: vi.fn() };
  const window = Object.assign(new EventEmitter(), { id: 1 }) as unknown as BrowserWindow;
  const guard = guardTransfers({ core, app: app as never, dialog: dialog as never, powerSaveBlocker, window: () => window });
  guard.watch(window);
  const quitEvent = () => {
    const event = { preventDefault: vi.fn() };
    appListeners.get('before-quit')!(event);
    return event;
  };
  const closeEvent = () => {
    const event = { preventDefault: vi.fn() };
    (window as unknown as EventEmitter).emit('close', event);
    return event;
  };
  return { update, app, dialog, powerSaveBlocker, cancelled, quitEvent, closeEvent };
}

const push = pushRecord({ id: 'aaaaaaaa-1111', state: 'running' });
const upload = uploadRecord({ id: 'bbbbbbbb-2222', state: 'queued', name: 'netinst.iso', into: { iso: true } });

describe('transfers and the main process', () => {
  it('keeps the machine from suspending while any transfer is queued or running, and only then', () => {
    const t = setup(0);
    t.update(push);
    t.update(upload);
    expect(t.powerSaveBlocker.start).toHaveBeenCalledTimes(1);
    expect(t.powerSaveBlocker.start).toHaveBeenCalledWith('prevent-app-suspension');
    t.update({ ...push, state: 'done' });
    expect(t.powerSaveBlocker.stop).not.toHaveBeenCalled();
    t.update({ ...upload, state: 'failed' });
    expect(t.powerSaveBlocker.stop).toHaveBeenCalledWith(7);
  });

  it('quits without asking when nothing runs', () => {
    const t = setup(0);
    expect(t.quitEvent().preventDefault).not.toHaveBeenCalled();
    expect(t.closeEvent().preventDefault).not.toHaveBeenCalled();
    expect(t.dialog.showMessageBox).not.toHaveBeenCalled();
  });

  it('asks before quitting with transfers running, naming them and saying what happens; "Keep running" keeps them', async () => {
    const t = setup(0);
    t.update(push);
    t.update(upload);
    expect(t.closeEvent().preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(t.dialog.showMessageBox).toHaveBeenCalledTimes(1));
    const [, options] = t.dialog.showMessageBox.mock.calls[0] as unknown as [unknown, { message: string; detail: string; buttons: string[]; cancelId: number }];
    expect(options.message).toBe('2 transfers are still running. Quit anyway?');
    expect(options.detail).toContain('win10@3 → cache01');
    expect(options.detail).toContain('netinst.iso into iso →');
    expect(options.detail).toContain('Quitting cancels them: what they have sent so far is deleted from the nodes');
    expect(options.buttons[options.cancelId]).toBe('Keep running');
    await new Promise((r) => setTimeout(r, 20));
    expect(t.cancelled).toEqual([]);
    expect(t.app.quit).not.toHaveBeenCalled();
  });

  it('on "Cancel transfers and quit" cancels each one, waits for their clean-up, then quits', async () => {
    const t = setup(1);
    t.update(push);
    t.update(upload);
    expect(t.quitEvent().preventDefault).toHaveBeenCalled();
    // A second quit while the question is open asks nothing more.
    expect(t.quitEvent().preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(t.app.quit).toHaveBeenCalledTimes(1));
    expect(t.dialog.showMessageBox).toHaveBeenCalledTimes(1);
    expect(t.cancelled.sort()).toEqual([push.id, upload.id]);
    expect(t.powerSaveBlocker.stop).toHaveBeenCalledWith(7);
    // The quit it started goes through.
    expect(t.quitEvent().preventDefault).not.toHaveBeenCalled();
  });
});
