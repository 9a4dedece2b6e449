import { isTransferFinished, type TransferRecord } from '../../../shared/transfers.ts';

/** Seconds of history a chart shows: a fixed window, so the axis does not rescale as time goes on. */
export const CHART_WINDOW_S = 60;

export interface RatePoint {
  x: number;
  y: number;
}

/**
 * Per-transfer rate samples (MB/s against seconds since the transfer started) and the aggregate
 * of all running transfers, as plain arrays that Chart.js reads directly. Listeners are told after
 * each sample so a chart redraws once per update (≈ 1/s), never per chunk.
 */
export class RateSamples {
  readonly #byId = new Map<string, RatePoint[]>();
  readonly aggregate: RatePoint[] = [];
  readonly #current = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  #t0 = Date.now();

  add(r: TransferRecord): void {
    const running = r.state === 'running' && r.rate !== null;
    if (running) {
      const points = this.#byId.get(r.id) ?? [];
      this.#byId.set(r.id, points);
      points.push({ x: (Date.now() - (r.startedAt ?? Date.now())) / 1000, y: r.rate! / 1e6 });
      trim(points);
    }
    if (running) this.#current.set(r.id, r.rate!);
    else if (isTransferFinished(r.state) || r.state === 'verifying') this.#current.delete(r.id);
    this.aggregate.push({ x: (Date.now() - this.#t0) / 1000, y: [...this.#current.values()].reduce((a, b) => a + b, 0) / 1e6 });
    trim(this.aggregate);
    for (const fn of this.#listeners) fn();
  }

  of(id: string): RatePoint[] {
    const points = this.#byId.get(id) ?? [];
    this.#byId.set(id, points);
    return points;
  }

  listen(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}

function trim(points: RatePoint[]): void {
  const last = points.at(-1);
  while (last && points.length > 1 && points[0]!.x < last.x - CHART_WINDOW_S) points.shift();
}
