import { isTransferFinished, transferSubject, type TransferRecord } from '../../shared/transfers.ts';
import { formatBytes, formatDuration, formatPercent, formatRate } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { cancelOnInterrupt } from './interrupt.ts';
import { fit, showsProgress } from './output.ts';

/** One transfer's progress in one line: what, where, state, bytes, rate, % and ETA. */
export function progressLine(r: TransferRecord): string {
  return `${transferSubject(r)} → ${r.targets.map((t) => t.node).join(',')}  ${r.state}  ${formatBytes(r.bytes)}${r.totalBytes !== null ? ` / ${formatBytes(r.totalBytes)}` : ''}  ${formatRate(r.rate)}  ${formatPercent(r.fraction)}  ETA ${formatDuration(r.etaSeconds)}`;
}

/** How a transfer ended, in the words printed once it has. */
export function resultLine(r: TransferRecord): string {
  return r.state === 'done' ? `${transferSubject(r)} done on ${r.targets.map((t) => t.node).join(', ')}.` : `${transferSubject(r)} ${r.state}${r.error ? `: ${r.error.message}` : '.'}`;
}

/**
 * Lines rewritten in place on stderr, one per running transfer, each cut to the terminal's width:
 * `draw` replaces the block, `clear` removes it (before a result line is printed above it).
 */
export function liveBlock(stream: NodeJS.WriteStream = process.stderr) {
  let drawn = 0;
  const clear = () => {
    if (drawn) stream.write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  return {
    draw(lines: readonly string[]) {
      const up = drawn ? `\x1b[${drawn}F` : '';
      stream.write(`${up}${lines.map((l) => `${fit(l, stream.columns || 80)}\x1b[K\n`).join('')}\x1b[J`);
      drawn = lines.length;
    },
    clear,
  };
}

/**
 * Waits for the transfers (pushes, uploads) to end. A person at a terminal sees a line per running
 * transfer and each result as it comes; a script only the results (or, with `human` false, nothing:
 * the caller prints JSON). Ctrl-C cancels them, waits for the clean-up, and exits 130.
 */
export async function follow(core: Core, records: readonly TransferRecord[], human: boolean): Promise<TransferRecord[]> {
  const latest = new Map(records.map((r) => [r.id, r]));
  const block = human && showsProgress() ? liveBlock() : undefined;
  const running = () => [...latest.values()].filter((r) => !isTransferFinished(r.state));
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  const off = core.on('transfer.update', (r) => {
    const before = latest.get(r.id);
    if (!before) return;
    latest.set(r.id, r);
    if (isTransferFinished(r.state) && !isTransferFinished(before.state)) {
      block?.clear();
      if (human) console.log(resultLine(r));
    }
    block?.draw(running().map(progressLine));
    if (!running().length) resolve();
  });
  const names = records.map(transferSubject).join(', ');
  try {
    return await cancelOnInterrupt(
      async () => {
        block?.draw(running().map(progressLine));
        if (running().length) await finished;
        return [...latest.values()];
      },
      {
        what: records.length === 1 ? `the transfer of ${names}` : `${records.length} transfers (${names})`,
        cancel: () => {
          for (const r of running()) void core.call('transfers.cancel', { id: r.id }).catch(() => undefined);
        },
        done: () => `interrupted: ${[...latest.values()].map((r) => `${transferSubject(r)} ${r.state}`).join(', ')}; nothing half-written is left on the nodes.`,
      },
    );
  } finally {
    block?.clear();
    off();
  }
}
