/**
 * Watermark flow control between a terminal's source (pty or SSH channel) and its consumer (an
 * xterm in a window, maybe over IPC or a WebSocket). The consumer acknowledges what it has
 * rendered; while too much is unacknowledged the source is paused, which in turn stops the
 * remote program (pty buffer full, SSH window not extended). Without it `cat bigfile` floods the
 * event queue faster than xterm can parse and the window freezes.
 */
export class FlowControl {
  #unacked = 0;
  #paused = false;

  constructor(
    private readonly source: { pause(): void; resume(): void },
    readonly highWater = 256 * 1024,
    readonly lowWater = 32 * 1024,
  ) {}

  sent(n: number): void {
    this.#unacked += n;
    if (!this.#paused && this.#unacked > this.highWater) {
      this.#paused = true;
      this.source.pause();
    }
  }

  ack(n: number): void {
    this.#unacked = Math.max(0, this.#unacked - n);
    if (this.#paused && this.#unacked <= this.lowWater) {
      this.#paused = false;
      this.source.resume();
    }
  }
}
