/** Ctrl-C during a command that started work: exit 130 once that work is cancelled and cleaned up. */
export class Interrupted extends Error {}

/**
 * Runs `work` with Ctrl-C bound to `cancel`: the first one says what is being cancelled and calls
 * it; later ones say the clean-up is still running (it must not be cut short: nothing half-written
 * is left on a node). When `work` has ended, however it ended, an interrupted run throws
 * Interrupted with `done`'s words on what became of the work.
 */
export async function cancelOnInterrupt<T>(work: () => Promise<T>, on: { what: string; cancel: () => void; done: () => string }): Promise<T> {
  let interrupted = false;
  const onSigint = () => {
    process.stderr.write(interrupted ? '\nStill cleaning up; it ends by itself.\n' : `\nInterrupted: cancelling ${on.what} (cleaning up first)...\n`);
    if (!interrupted) on.cancel();
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await work().catch((err: unknown) => {
      if (interrupted) throw new Interrupted(on.done());
      throw err;
    });
    if (interrupted) throw new Interrupted(on.done());
    return result;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
