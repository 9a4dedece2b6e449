import { PassThrough, Writable } from 'node:stream';
import { Pacer } from '../util/pacer.ts';

/**
 * Relay mode's fan-out: the sender channel's stdout is written to every receiver's stdin, and a
 * chunk is acknowledged (so the sender is read further) only when every live receiver took it —
 * the slowest receiver sets the pace and memory stays bounded. A receiver that ends (failed, or
 * cancelled) is dropped so that the others go on, as `tee -p` does in direct mode.
 */
export class FanOut extends Writable {
  readonly #sinks = new Set<PassThrough>();
  readonly #waiting = new Map<PassThrough, () => void>();
  readonly #pacer: Pacer | undefined;

  /** `bytesPerSecond`: the transfer's cap (util/pacer.ts). */
  constructor(bytesPerSecond?: number) {
    super();
    this.#pacer = bytesPerSecond === undefined ? undefined : new Pacer(bytesPerSecond);
  }

  /** A new receiver's input; pass it as that receiver's stdin. */
  sink(): PassThrough {
    const s = new PassThrough({ highWaterMark: 1 << 20 });
    this.#sinks.add(s);
    return s;
  }

  /** The receiver of `s` stopped reading: stop waiting for it. */
  drop(s: PassThrough): void {
    this.#sinks.delete(s);
    this.#waiting.get(s)?.();
    s.destroy();
  }

  get live(): number {
    return this.#sinks.size;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (!this.#pacer) return this.#pass(chunk, done);
    const wait = this.#pacer.wait(chunk.length);
    // A timer per chunk costs a millisecond or more, hundreds of times a second: only when it must wait.
    if (wait === 0) this.#pass(chunk, done);
    else setTimeout(() => this.#pass(chunk, done), wait);
  }

  #pass(chunk: Buffer, done: (err?: Error | null) => void): void {
    if (this.#sinks.size === 0) return done(new Error('Every receiver has stopped.'));
    const pending: Promise<void>[] = [];
    for (const s of this.#sinks) {
      if (s.write(chunk)) continue;
      pending.push(
        new Promise<void>((resolve) => {
          const go = () => {
            s.off('drain', go);
            this.#waiting.delete(s);
            resolve();
          };
          this.#waiting.set(s, go);
          s.on('drain', go);
        }),
      );
    }
    if (pending.length === 0) return done();
    void Promise.all(pending).then(() => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    for (const s of this.#sinks) s.end();
    done();
  }
}
