import type { Host } from '../../../shared/inventory.ts';
import type { AuditLog } from '../audit/log.ts';
import type { EventBus } from '../util/events.ts';
import type { SshPool } from '../ssh/pool.ts';
import { TransferService } from './service.ts';
import { TransferStore } from './store.ts';
import type { TrustPair } from '../replication/keys.ts';
import { nodeRemote, type HostChange, type NodeRemote } from '../remote/node.ts';
import { Replication } from '../replication/replication.ts';
import { ReplicationSettings } from '../replication/settings.ts';

export interface ReplicationStack {
  remote: NodeRemote;
  replication: Replication;
  transfers: TransferService;
  store: TransferStore;
  settings: ReplicationSettings;
  /** Per-node transfer limits, as last read from the settings (the queue asks synchronously). */
  limits: Map<string, number>;
}

/** The default of RepoSettings.maxTransfers, for a node whose settings were not read yet. */
const DEFAULT_LIMIT = 2;

/**
 * Replication and the transfer monitor over the SSH pool: every change to a node is audited,
 * every transfer change is an event and a line of the history in the data directory.
 */
export function openReplication(o: { home: string; pool: SshPool; getHosts(): Promise<Host[]>; events: EventBus; audit: AuditLog; trust: TrustPair }): ReplicationStack {
  const remote = nodeRemote(o.pool);
  const settings = new ReplicationSettings(o.home);
  const limits = new Map<string, number>();
  const onChange = (c: HostChange) => {
    // A full disk in the data directory must not fail a transfer that already ran.
    void o.audit.append({ host: c.host, action: c.action, command: c.command, result: c.result, ...(c.detail ? { detail: c.detail } : {}), ...(c.ms !== undefined ? { ms: c.ms } : {}) }).catch(() => undefined);
  };
  const store = new TransferStore(o.home);
  return {
    remote,
    replication: new Replication({ remote, getHosts: o.getHosts, settings, onChange, trust: o.trust }),
    transfers: new TransferService({
      store,
      remote,
      send: (host, localPath, remotePath, opts) => o.pool.upload(host, localPath, remotePath, opts),
      limit: (node) => limits.get(node) ?? DEFAULT_LIMIT,
      onUpdate: (r) => o.events.emit('transfer.update', r),
      onLog: (id, line) => o.events.emit('transfer.log', { id, at: Date.now(), line }),
      onChange,
    }),
    store,
    settings,
    limits,
  };
}
