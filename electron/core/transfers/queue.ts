/**
 * Starts transfers in the order they were queued, each when every node it involves (source and
 * receivers) is below its limit of concurrent transfers. A transfer that must wait reserves the
 * nodes that make it wait, so a later one cannot take the slot it is waiting for; later ones
 * still use the free slots of other nodes (imgs sends to cache02 while cache01 is busy).
 */
export interface QueuedItem {
  id: string;
  nodes: readonly string[];
  start(): Promise<void>;
}

export class NodeQueue {
  readonly #waiting: QueuedItem[] = [];
  readonly #busy = new Map<string, number>();

  constructor(private readonly limit: (node: string) => number) {}

  add(item: QueuedItem): void {
    this.#waiting.push(item);
    this.#pump();
  }

  /** Removes a transfer that has not started; false when it is not waiting. */
  remove(id: string): boolean {
    const i = this.#waiting.findIndex((w) => w.id === id);
    if (i < 0) return false;
    this.#waiting.splice(i, 1);
    this.#pump();
    return true;
  }

  get waiting(): string[] {
    return this.#waiting.map((w) => w.id);
  }

  running(node: string): number {
    return this.#busy.get(node) ?? 0;
  }

  #pump(): void {
    const reserved = new Set<string>();
    for (const item of [...this.#waiting]) {
      const nodes = [...new Set(item.nodes)];
      const blocking = nodes.filter((n) => reserved.has(n) || this.running(n) >= this.limit(n));
      if (blocking.length) {
        for (const n of blocking) reserved.add(n);
        continue;
      }
      this.#waiting.splice(this.#waiting.indexOf(item), 1);
      for (const n of nodes) this.#busy.set(n, this.running(n) + 1);
      void item
        .start()
        .catch(() => undefined)
        .finally(() => {
          for (const n of nodes) this.#busy.set(n, this.running(n) - 1);
          this.#pump();
        });
    }
  }
}
