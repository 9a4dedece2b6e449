import type { Output } from '../../../shared/contract.ts';
import { api } from './api.ts';

export type SnapshotTreeData = Output<'replication.tree'>;

/** The snapshot tree as last read from the nodes; reloaded on demand and when a transfer ends. */
class SnapshotTreeState {
  tree = $state.raw<SnapshotTreeData | undefined>();
  loading = $state(false);
  error = $state<unknown>();

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.tree = await api.invoke('replication.tree', {});
      this.error = undefined;
    } catch (err) {
      this.error = err;
    } finally {
      this.loading = false;
    }
  }
}

export const snapshotTree = new SnapshotTreeState();
