/**
 * Starts transfers in the order they were queued, each when every node it involves (source and
 * receivers) is below its limit of concurrent transfers. A transfer that must wait reserves its
 * nodes, so later ones cannot overtake it on those nodes forever; they may run on other nodes.
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
      const free = nodes.every((n) => !reserved.has(n) && this.running(n) < this.limit(n));
      if (!free) {
        for (const n of nodes) reserved.add(n);
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
