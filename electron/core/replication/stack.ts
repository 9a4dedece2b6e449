import { AppError, toWire } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { AuditLog } from '../audit/log.ts';
import type { EventBus } from '../events.ts';
import type { SshPool } from '../ssh/pool.ts';
import { TransferService } from '../transfers/service.ts';
import { TransferStore } from '../transfers/store.ts';
import type { TrustPair } from './keys.ts';
import type { HostChange, ReplicationRemote } from './remote.ts';
import { Replication } from './replication.ts';
import { ReplicationSettings } from './settings.ts';

export interface ReplicationStack {
  remote: ReplicationRemote;
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
  const remote: ReplicationRemote = { exec: (host, argv, opts) => o.pool.exec(host, argv, opts), pipesStdout: true };
  const settings = new ReplicationSettings(o.home);
  const limits = new Map<string, number>();
  // Rejects, in words, when the log cannot take it: each caller says so where the operator looks.
  const onChange = (c: HostChange) =>
    o.audit.append({ host: c.host, action: c.action, command: c.command, result: c.result, ...(c.detail ? { detail: c.detail } : {}), ...(c.ms !== undefined ? { ms: c.ms } : {}) }).then(
      () => undefined,
      (err: unknown) => {
        throw new AppError('INTERNAL', `The audit log could not record ${c.action} on ${c.host} (${c.result}): ${toWire(err).message}.`);
      },
    );
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
