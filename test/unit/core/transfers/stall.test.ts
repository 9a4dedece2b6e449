import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallWatch } from '../../../../electron/core/transfers/stall.ts';

describe('the stall watchdog', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const watch = (seconds: number, graceMs?: number) => {
    const events: string[] = [];
    const w = new StallWatch({
      seconds,
      ...(graceMs === undefined ? {} : { graceMs }),
      onStalled: (since) => events.push(`stalled since ${since}`),
      onMoving: () => events.push('moving'),
      onGiveUp: (since) => events.push(`gave up, nothing since ${since}`),
    });
    return { w, events };
  };

  it('stalled after N s without a new byte, running again when bytes come, given up after 2 N s', () => {
    const t0 = Date.now();
    const { w, events } = watch(10);
    w.bytes(100);
    vi.advanceTimersByTime(5_000);
    // The meter repeats the same count once a second while nothing moves: that is no progress.
    w.bytes(100);
    vi.advanceTimersByTime(5_000);
    expect(events).toEqual([`stalled since ${t0}`]);
    w.bytes(200);
    expect(events).toEqual([`stalled since ${t0}`, 'moving']);
    vi.advanceTimersByTime(19_000);
    expect(events).toHaveLength(3);
    vi.advanceTimersByTime(1_000);
    expect(events.at(-1)).toBe(`gave up, nothing since ${t0 + 10_000}`);
    vi.advanceTimersByTime(60_000);
    expect(events).toHaveLength(4);
  });

  it("a resume's replay is no stall: the first byte is due only after the grace", () => {
    const t0 = Date.now();
    const { events } = watch(10, 30_000);
    vi.advanceTimersByTime(39_000);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(events).toEqual([`stalled since ${t0 + 30_000}`]);
  });

  it('a transfer that never moves a byte stalls too; stop ends the watch', () => {
    const { w, events } = watch(10);
    vi.advanceTimersByTime(10_000);
    expect(events).toHaveLength(1);
    w.stop();
    vi.advanceTimersByTime(60_000);
    expect(events).toHaveLength(1);
  });
});
