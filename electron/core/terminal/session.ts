import { randomUUID } from 'node:crypto';
import { FlowControl } from './flow.ts';

export interface TerminalExit {
  code: number | null;
  signal: string | null;
}

/**
 * A terminal, local or over SSH. Data is delivered as text; the consumer calls ack(n) with the
 * number of characters it has processed (the sum of data.length), or the source stops.
 */
export interface TerminalSession {
  readonly id: string;
  readonly kind: 'ssh' | 'local';
  /** The host name, or "local". */
  readonly title: string;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  ack(chars: number): void;
  close(): void;
  onData(fn: (data: string) => void): () => void;
  onExit(fn: (exit: TerminalExit) => void): () => void;
}

/** What each kind of terminal plugs into the shared session logic. */
export interface TerminalSource {
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  close(): void;
}

/** Listener bookkeeping and flow control shared by SSH and local terminals. */
export class BaseSession implements TerminalSession {
  readonly id = randomUUID();
  readonly #data = new Set<(data: string) => void>();
  readonly #exit = new Set<(exit: TerminalExit) => void>();
  readonly #flow: FlowControl;
  #exited: TerminalExit | undefined;

  constructor(
    readonly kind: 'ssh' | 'local',
    readonly title: string,
    private readonly source: TerminalSource,
  ) {
    this.#flow = new FlowControl(source);
  }

  /** For the source: output to deliver. */
  emitData(data: string): void {
    if (data.length === 0) return;
    this.#flow.sent(data.length);
    for (const fn of this.#data) fn(data);
  }

  /** For the source: the program ended. */
  emitExit(exit: TerminalExit): void {
    if (this.#exited) return;
    this.#exited = exit;
    for (const fn of this.#exit) fn(exit);
  }

  write(data: string): void {
    if (!this.#exited) this.source.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.#exited) return;
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 1000 || rows > 1000) return;
    this.source.resize(cols, rows);
  }

  ack(chars: number): void {
    this.#flow.ack(chars);
  }

  close(): void {
    if (!this.#exited) this.source.close();
  }

  onData(fn: (data: string) => void): () => void {
    this.#data.add(fn);
    return () => this.#data.delete(fn);
  }

  onExit(fn: (exit: TerminalExit) => void): () => void {
    if (this.#exited) fn(this.#exited);
    else this.#exit.add(fn);
    return () => this.#exit.delete(fn);
  }
}
