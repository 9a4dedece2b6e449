import type { SnapshotTree, TreeRowWire } from '../../../../shared/replication.ts';

export type ListItem = { kind: 'image'; image: string; count: number } | { kind: 'snapshot'; image: string; row: TreeRowWire };

export interface TreeFilter {
  image: string;
  /** Only rows where this node's cell is not present ('' = every row). */
  node: string;
}

/** The tree as one flat list (an image line, then its snapshots newest first): what the virtual list scrolls. */
export function listItems(tree: SnapshotTree | undefined, filter: TreeFilter, inTransfer: ReadonlySet<string>): ListItem[] {
  const items: ListItem[] = [];
  for (const image of tree?.images ?? []) {
    if (filter.image && image.name !== filter.image) continue;
    const rows = image.rows
      .map((row) => withTransfers(image.name, row, inTransfer))
      .filter((row) => !filter.node || row.cells.some((c) => c.node === filter.node && c.state !== 'present'));
    if (!rows.length && filter.node) continue;
    items.push({ kind: 'image', image: image.name, count: rows.length });
    for (const row of rows) items.push({ kind: 'snapshot', image: image.name, row });
  }
  return items;
}

/** Cells the live transfer list says are being written, between two reads of the nodes. */
function withTransfers(image: string, row: TreeRowWire, inTransfer: ReadonlySet<string>): TreeRowWire {
  if (!row.cells.some((c) => inTransfer.has(`${image}@${row.number}@${c.node}`))) return row;
  return { ...row, cells: row.cells.map((c) => (inTransfer.has(`${image}@${row.number}@${c.node}`) ? { ...c, state: 'transferring' } : c)) };
}

/** Visible slice of a list of `count` fixed-height rows, with some rows of margin each side. */
export function windowOf(count: number, rowHeight: number, scrollTop: number, viewHeight: number, margin = 8): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - margin);
  const end = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + margin);
  return { start, end };
}
