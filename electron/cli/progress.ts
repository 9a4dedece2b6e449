import { isTransferFinished, transferSubject, type TransferRecord } from '../../shared/transfers.ts';
import { formatBytes, formatDuration, formatPercent, formatRate } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';

/** One transfer's progress in one line: what, where, state, bytes, rate, % and ETA. */
export function progressLine(r: TransferRecord): string {
  return `${transferSubject(r)} → ${r.targets.map((t) => t.node).join(',')}  ${r.state}  ${formatBytes(r.bytes)}${r.totalBytes !== null ? ` / ${formatBytes(r.totalBytes)}` : ''}  ${formatRate(r.rate)}  ${formatPercent(r.fraction)}  ETA ${formatDuration(r.etaSeconds)}`;
}

/**
 * Waits for the transfers (pushes, uploads) to end: one rewritten progress line on a terminal,
 * a line per state change otherwise. Ctrl-C cancels them and waits for the clean-up.
 */
export async function follow(core: Core, records: readonly TransferRecord[], human: boolean): Promise<TransferRecord[]> {
  const latest = new Map(records.map((r) => [r.id, r]));
  const tty = human && process.stderr.isTTY;
  const done = () => [...latest.values()].every((r) => isTransferFinished(r.state));
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const off = core.on('transfer.update', (r) => {
    const before = latest.get(r.id);
    if (!before) return;
    latest.set(r.id, r);
    if (tty) process.stderr.write(`\r\x1b[K${progressLine(r)}`);
    else if (human && before.state !== r.state) process.stderr.write(`${progressLine(r)}\n`);
    if (isTransferFinished(r.state)) {
      if (tty) process.stderr.write('\n');
      if (human) console.log(r.state === 'done' ? `${transferSubject(r)} done on ${r.targets.map((t) => t.node).join(', ')}.` : `${r.state}: ${r.error?.message ?? ''}`);
    }
    if (done()) resolve();
  });
  const onSigint = () => {
    process.stderr.write('\nCancelling (cleaning up first)...\n');
    for (const id of latest.keys()) void core.call('transfers.cancel', { id }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    if (!done()) await finished;
  } finally {
    off();
    process.off('SIGINT', onSigint);
  }
  return [...latest.values()];
}
