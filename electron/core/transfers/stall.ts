/**
 * The stall watchdog of one running transfer. Its byte count comes about once a second (the
 * sender's meter, or an upload's progress); when it has not grown for `seconds` the transfer is
 * stalled (the monitor says so, with since when), and when it has not grown for as long again the
 * runner gives up: it stops the transfer; an upload fails cleanly, a push keeps what its receivers
 * staged, waits for the link and resumes (transfers/service.ts). Bytes again before that: running again. Nothing here touches a node.
 */
export interface StallOptions {
  /** Seconds without a new byte before the transfer counts as stalled. */
  seconds: number;
  onStalled(since: number): void;
  onMoving(): void;
  /** Stalled for `seconds` more: the runner's turn (its outcome: failed, or a resume). */
  onGiveUp(since: number): void;
  /** Milliseconds before the first byte is due (a resume replays what is staged first, moving nothing on the link). */
  graceMs?: number;
  now?: () => number;
}

export class StallWatch {
  #count = -1;
  #since: number;
  #stalled = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(private readonly o: StallOptions) {
    this.#now = o.now ?? Date.now;
    this.#since = this.#now() + (o.graceMs ?? 0);
    this.#timer = setInterval(() => this.#check(), 1000);
    this.#timer.unref();
  }

  /** The transfer's byte count so far. */
  bytes(count: number): void {
    if (count <= this.#count) return;
    this.#count = count;
    this.#since = this.#now();
    if (!this.#stalled) return;
    this.#stalled = false;
    this.o.onMoving();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const idle = this.#now() - this.#since;
    if (!this.#stalled && idle >= this.o.seconds * 1000) {
      this.#stalled = true;
      this.o.onStalled(this.#since);
    }
    if (this.#stalled && idle >= 2 * this.o.seconds * 1000) {
      this.stop();
      this.o.onGiveUp(this.#since);
    }
  }
}
