import { cellState, rowsOf, withTransferring, type SnapshotTree, type TreeRowWire } from '../../../../shared/replication.ts';

export type ListItem = { kind: 'image'; image: string; count: number } | { kind: 'snapshot'; image: string; row: TreeRowWire };

export interface TreeFilter {
  image: string;
  /** Only rows where this node's cell is not present ('' = every row). */
  node: string;
}

/**
 * The tree as one flat list (an image line, then its snapshots newest first): what the virtual
 * list scrolls. `inTransfer` holds `image@number@node` of the copies the live transfers are
 * writing. Rows are reused as they came unless a filter or a transfer touches them: this runs
 * over every row before the first one is drawn.
 */
export function listItems(tree: SnapshotTree | undefined, filter: TreeFilter, inTransfer: ReadonlySet<string>): ListItem[] {
  const items: ListItem[] = [];
  const nodes = tree?.nodes.map((n) => n.name) ?? [];
  const lacking = filter.node ? nodes.indexOf(filter.node) : -1;
  const writing = transfersByImage(inTransfer, nodes);
  for (const image of tree?.images ?? []) {
    if (filter.image && image.name !== filter.image) continue;
    const live = writing.get(image.name);
    let rows = rowsOf(image);
    if (live) rows = rows.map((row) => (live.get(row.number) ?? []).reduce(withTransferring, row));
    if (filter.node) rows = rows.filter((row) => lacking >= 0 && cellState(row, lacking) !== 'present');
    if (!rows.length && filter.node) continue;
    items.push({ kind: 'image', image: image.name, count: rows.length });
    for (const row of rows) items.push({ kind: 'snapshot', image: image.name, row });
  }
  return items;
}

/** image → snapshot number → the column indexes being written. */
function transfersByImage(inTransfer: ReadonlySet<string>, nodes: readonly string[]): Map<string, Map<number, number[]>> {
  const byImage = new Map<string, Map<number, number[]>>();
  for (const key of inTransfer) {
    const [image = '', number = '', node = ''] = key.split('@');
    const column = nodes.indexOf(node);
    if (column < 0) continue;
    const rows = byImage.get(image) ?? byImage.set(image, new Map()).get(image)!;
    rows.set(Number(number), [...(rows.get(Number(number)) ?? []), column]);
  }
  return byImage;
}

/** Visible slice of a list of `count` fixed-height rows, with some rows of margin each side. */
export function windowOf(count: number, rowHeight: number, scrollTop: number, viewHeight: number, margin = 8): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - margin);
  const end = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + margin);
  return { start, end };
}
