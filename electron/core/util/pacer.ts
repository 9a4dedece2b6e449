import { Transform } from 'node:stream';

/**
 * A transfer's cap where the app itself moves the bytes (relay mode, uploads): each chunk goes on
 * no sooner than the bytes before it are due at the cap, so the average holds over the whole
 * stream (a token bucket without a burst; the source's own pacing is replication/commands.ts PACE).
 */
export class Pacer {
  readonly #start = Date.now();
  #sent = 0;

  constructor(private readonly bytesPerSecond: number) {}

  /** Milliseconds to wait before passing on `length` more bytes. */
  wait(length: number): number {
    const due = this.#start + (this.#sent * 1000) / this.bytesPerSecond;
    this.#sent += length;
    return Math.max(0, due - Date.now());
  }
}

/** A pass-through stream held to `bytesPerSecond`. */
export function pacedStream(bytesPerSecond: number): Transform {
  const pacer = new Pacer(bytesPerSecond);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const wait = pacer.wait(chunk.length);
      if (wait === 0) done(null, chunk);
      else setTimeout(() => done(null, chunk), wait);
    },
  });
}
