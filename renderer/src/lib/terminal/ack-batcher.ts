/**
 * Flow control from the window's side: the core pauses a shell once 256 KiB are unacknowledged,
 * so every character xterm has drawn must come back as terminal.ack. xterm calls back once per
 * written chunk, often dozens of times in one task; one ack per task carries the same count
 * with far fewer requests.
 */
export class AckBatcher {
  #pending = 0;
  #scheduled = false;

  constructor(
    private readonly send: (chars: number) => void,
    private readonly later: (flush: () => void) => void = (flush) => setTimeout(flush, 0),
  ) {}

  /** xterm has drawn `chars` characters (the length of the chunk it was given). */
  drawn(chars: number): void {
    if (chars <= 0) return;
    this.#pending += chars;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.later(() => {
      this.#scheduled = false;
      const chars = this.#pending;
      this.#pending = 0;
      this.send(chars);
    });
  }
}
