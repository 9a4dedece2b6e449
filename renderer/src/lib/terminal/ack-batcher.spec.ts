import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher.ts';

function batcher() {
  const sent: number[] = [];
  const queued: (() => void)[] = [];
  const acks = new AckBatcher(
    (chars) => sent.push(chars),
    (flush) => queued.push(flush),
  );
  const runLater = () => queued.splice(0).forEach((flush) => flush());
  return { acks, sent, queued, runLater };
}

describe('AckBatcher', () => {
  it('acknowledges every drawn character, once per task however many chunks were drawn', () => {
    const { acks, sent, queued, runLater } = batcher();
    acks.drawn(4096);
    acks.drawn(10);
    acks.drawn(1);
    expect(queued).toHaveLength(1);
    expect(sent).toEqual([]);
    runLater();
    expect(sent).toEqual([4107]);
  });

  it('starts a new batch after a flush, so nothing is acknowledged twice or lost', () => {
    const { acks, sent, runLater } = batcher();
    acks.drawn(300_000);
    runLater();
    acks.drawn(5);
    runLater();
    runLater();
    expect(sent).toEqual([300_000, 5]);
  });

  it('sends nothing for empty chunks', () => {
    const { acks, sent, queued } = batcher();
    acks.drawn(0);
    expect(queued).toHaveLength(0);
    expect(sent).toEqual([]);
  });
});
