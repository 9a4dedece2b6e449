import type { TransferRecord, UploadInput, UploadRecord } from '../../../shared/transfers.ts';
import { api } from './api.ts';
import { RateSamples } from './rate-samples.ts';

/**
 * Every transfer the core knows (this session's and the history), kept current by
 * transfer.update. The rate samples for the charts live outside Svelte's state (see
 * rate-samples.ts): Chart.js mutates the arrays it is given, which a $state proxy would track.
 */
class TransferMonitor {
  records = $state.raw<TransferRecord[]>([]);
  loaded = $state(false);
  error = $state<unknown>();
  readonly samples = new RateSamples();

  follow(): () => void {
    return api.on('transfer.update', (r) => {
      this.samples.add(r);
      const i = this.records.findIndex((x) => x.id === r.id);
      this.records = i < 0 ? [r, ...this.records] : this.records.with(i, r);
    });
  }

  async refresh(): Promise<void> {
    try {
      const list = await api.invoke('transfers.list', {});
      // Updates that arrived while the list was on its way are newer than what it says.
      const live = new Map(this.records.map((r) => [r.id, r]));
      this.records = list.map((r) => live.get(r.id) ?? r);
      this.loaded = true;
      this.error = undefined;
    } catch (err) {
      this.error = err;
    }
  }

  /** Queues an upload; its row appears at once (the core's updates follow). */
  async upload(input: UploadInput): Promise<UploadRecord> {
    const record = await api.invoke('transfers.upload', input);
    if (!this.records.some((r) => r.id === record.id)) this.records = [record, ...this.records];
    return record;
  }

  async cancel(id: string): Promise<void> {
    await api.invoke('transfers.cancel', { id });
  }

  /** A push interrupted when its console went away goes on, in this console, from what its receivers hold. */
  async resume(id: string): Promise<void> {
    await api.invoke('transfers.resume', { id });
  }
}

export const transferMonitor = new TransferMonitor();
