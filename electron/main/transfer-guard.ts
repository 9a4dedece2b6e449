import type { App, BrowserWindow, Dialog, PowerSaveBlocker } from 'electron';
import type { Reply } from '../../shared/contract.ts';
import { isTransferFinished, transferSubject, type TransferRecord } from '../../shared/transfers.ts';
import type { DoorCore } from './ipc.ts';

/** How long quitting waits for cancelled transfers to clean up their nodes. */
const CLEANUP_WAIT_MS = 30_000;

export interface TransferGuardOptions {
  core: DoorCore;
  app: Pick<App, 'on' | 'quit'>;
  dialog: Pick<Dialog, 'showMessageBox'>;
  powerSaveBlocker: Pick<PowerSaveBlocker, 'start' | 'stop'>;
  window: () => BrowserWindow | undefined;
}

/**
 * While this process runs transfers, the machine is kept from suspending (a sleeping laptop drops
 * every SSH stream), and closing the window or quitting asks first, saying what happens: the
 * transfers are cancelled and what they had sent is deleted from the nodes. The operator may
 * keep them running instead.
 */
export function guardTransfers(o: TransferGuardOptions): { watch(window: BrowserWindow): void } {
  const running = new Map<string, TransferRecord>();
  let blocker: number | undefined;
  let asking = false;
  let allowed = false;

  o.core.on('transfer.update', (record) => {
    if (isTransferFinished(record.state)) running.delete(record.id);
    else running.set(record.id, record);
    if (running.size && blocker === undefined) blocker = o.powerSaveBlocker.start('prevent-app-suspension');
    if (!running.size && blocker !== undefined) {
      o.powerSaveBlocker.stop(blocker);
      blocker = undefined;
    }
  });

  const ask = async (): Promise<boolean> => {
    const names = [...running.values()].map((r) => `${transferSubject(r)} → ${r.targets.map((t) => t.node).join(', ')}`);
    const options = {
      type: 'warning' as const,
      title: 'Transfers are running',
      message: `${running.size === 1 ? 'A transfer is' : `${running.size} transfers are`} still running. Quit anyway?`,
      detail:
        `${names.slice(0, 8).join('\n')}${names.length > 8 ? `\n… and ${names.length - 8} more` : ''}\n\n` +
        'Quitting cancels them: what they have sent so far is deleted from the nodes, and the snapshots and files stay where they came from. Push, sync or upload again later to send them.',
      buttons: ['Keep running', 'Cancel transfers and quit'],
      defaultId: 0,
      cancelId: 0,
      noLink: true,
    };
    const parent = o.window();
    const { response } = parent ? await o.dialog.showMessageBox(parent, options) : await o.dialog.showMessageBox(options);
    return response === 1;
  };

  const cancelAll = async () => {
    const ids = [...running.keys()];
    const ended = new Promise<void>((resolve) => {
      const timer = setTimeout(done, CLEANUP_WAIT_MS);
      const off = o.core.on('transfer.update', () => ids.every((id) => !running.has(id)) && done());
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    const replies: Reply[] = await Promise.all(ids.map((id) => o.core.dispatch('transfers.cancel', { id })));
    // A transfer that finished meanwhile answers { cancelled: false } and sends no further update.
    replies.forEach((r, i) => r.ok && !(r.value as { cancelled: boolean }).cancelled && running.delete(ids[i]!));
    if (ids.some((id) => running.has(id))) await ended;
  };

  const intercept = (event: { preventDefault(): void }) => {
    if (allowed || !running.size) return;
    event.preventDefault();
    if (asking) return;
    asking = true;
    void ask()
      .then(async (quit) => {
        if (!quit) return;
        await cancelAll();
        allowed = true;
        o.app.quit();
      })
      .finally(() => (asking = false));
  };

  o.app.on('before-quit', intercept);
  return { watch: (window) => window.on('close', intercept) };
}
