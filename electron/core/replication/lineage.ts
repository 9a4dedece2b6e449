import type { RetentionLookup, SentLookup, SnapshotCopy, SnapshotInfo } from '../../../shared/replication.ts';
import { buildTree, findImage, snapshotParents, type ActiveTransfer, type NodeRepo } from '../../../shared/snapshots.ts';
import { isTransferFinished, type PushRecord, type TransferRecord } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';

/**
 * Where each copy of a snapshot came from. btrfs keeps part of the story (a received copy's
 * received_uuid names what was sent, an incremental receive's parent_uuid the local copy it was
 * applied to, a full receive has none); the transfer history keeps the rest (which transfer, from
 * which node, how big the stream, started by whom). Pure: the stack reads the nodes and the history.
 */

const pushes = (records: readonly TransferRecord[]) => records.filter((r): r is PushRecord => r.operation === 'push');
const when = (r: PushRecord) => r.endedAt ?? r.startedAt ?? r.queuedAt;

/** The newest of the pushes that pass `test`, whatever order the history lists them in. */
function newest(records: readonly PushRecord[], test: (r: PushRecord) => boolean): PushRecord | undefined {
  let found: PushRecord | undefined;
  for (const r of records) if (test(r) && (!found || when(r) > when(found))) found = r;
  return found;
}

/** The newest push of `image@number` that `node` received whole. */
function broughtBy(records: readonly PushRecord[], image: string, number: number, node: string): PushRecord | undefined {
  return newest(records, (r) => r.image === image && r.number === number && r.targets.some((t) => t.node === node && t.state === 'done'));
}

/** The size of the newest finished push of each snapshot, for the tree's Size column when quotas are off. */
export function lastSent(records: readonly TransferRecord[]): SentLookup {
  const sent = new Map<string, PushRecord>();
  for (const r of pushes(records)) {
    const key = `${r.image}@${r.number}`;
    const kept = sent.get(key);
    if (r.targets.some((t) => t.state === 'done') && (!kept || when(r) > when(kept))) sent.set(key, r);
  }
  return (image, number) => {
    const r = sent.get(`${image}@${number}`);
    return r && { bytes: Math.round(r.bytes), kind: r.kind, parent: r.parentNumber };
  };
}

export interface InfoInput {
  repos: readonly NodeRepo[];
  source: string;
  image: string;
  number: number;
  records: readonly TransferRecord[];
  active: readonly ActiveTransfer[];
  retained: RetentionLookup;
  /** The retention policy of `image` on `node`, in words. */
  policy(node: string): string;
}

export function snapshotInfo(o: InfoInput): SnapshotInfo {
  const only = o.repos.map((r) => ({ ...r, images: r.images.filter((i) => i.name === o.image) }));
  const row = buildTree(only, o.source, o.active)[0]?.rows.find((r) => r.number === o.number);
  const history = pushes(o.records);
  const copies = (row?.cells ?? []).map((cell): SnapshotCopy => {
    const repo = only.find((r) => r.node === cell.node)!;
    const s = cell.snapshot;
    const parent = s ? (snapshotParents(findImage(repo, o.image)!.snapshots, repo.node === o.source).get(s.number) ?? null) : null;
    const record = s && repo.node !== o.source ? broughtBy(history, o.image, o.number, repo.node) : undefined;
    const verdict = s ? o.retained(repo.node, o.image, o.number) : undefined;
    return {
      node: repo.node,
      role: repo.role,
      state: cell.state,
      ...(s ? { snapshot: s } : {}),
      parent: parent?.number ?? null,
      ...(record
        ? {
            came: {
              transfer: record.id,
              from: record.source,
              kind: record.kind,
              parent: record.parentNumber,
              bytes: Math.round(record.bytes),
              at: record.endedAt ?? null,
              ...(record.origin ? { schedule: record.origin.schedule } : {}),
            },
          }
        : {}),
      lineage: cell.reason ?? lineage(o, repo, cell.state, parent?.number ?? null, s?.receivedUuid ?? null, record, history),
      ...(verdict ? { retention: { keep: verdict.keep, why: [...verdict.why], policy: o.policy(repo.node) } } : {}),
    };
  });
  return { image: o.image, number: o.number, source: o.source, copies };
}

function lineage(o: InfoInput, repo: NodeRepo, state: SnapshotCopy['state'], parent: number | null, receivedUuid: string | null, record: PushRecord | undefined, history: readonly PushRecord[]): string {
  if (state === 'transferring') {
    const running = newest(history, (r) => r.image === o.image && r.number === o.number && !isTransferFinished(r.state) && r.targets.some((t) => t.node === repo.node));
    return `being received${running ? ` from ${running.source} (transfer ${running.id.slice(0, 8)}, ${running.kind}${running.parentNumber ? ` from ${running.parentNumber}` : ''})` : ''}`;
  }
  if (state === 'missing') {
    const failed = newest(history, (r) => r.image === o.image && r.number === o.number && r.targets.some((t) => t.node === repo.node && t.state === 'failed'));
    const why = failed?.targets.find((t) => t.node === repo.node)?.error ?? failed?.error?.message;
    return failed ? `not here: the last push of it here failed (transfer ${failed.id.slice(0, 8)}${why ? `: ${why}` : ''})` : 'not here';
  }
  if (repo.node === o.source)
    return receivedUuid
      ? `received on ${repo.node}, not taken there (it carries a received_uuid)`
      : parent
        ? `taken on ${repo.node} after ${o.image}@${parent}`
        : `the first snapshot of ${o.image} on ${repo.node}`;
  // What btrfs says of the receive: an incremental one was applied to a local copy of its parent.
  const applied = parent ? `applied to its copy of ${parent}` : 'received whole';
  if (!record) return `received ${parent ? `incrementally (${applied})` : 'whole (a full stream)'}; no transfer in this console's history brought it (pushed before the history, from another console, or by hand)`;
  const how = record.kind === 'full' ? 'full stream' : `incremental stream from ${record.parentNumber}`;
  const agrees = (record.kind === 'full') === (parent === null) && (record.kind === 'full' || record.parentNumber === parent);
  const on = record.endedAt ? ` on ${new Date(record.endedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return `from ${record.source} by transfer ${record.id.slice(0, 8)}${record.origin ? ` (schedule ${record.origin.schedule})` : ''}${on}: ${how}, ${formatBytes(record.bytes)}${agrees ? '' : `; btrfs records it as ${applied}`}`;
}
