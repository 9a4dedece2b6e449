/**
 * An operator's action in flight: busy while it runs (for the button's busy state) and its
 * failure kept for the banner, cleared when the next one starts.
 */
export class Action {
  busy = $state(false);
  error = $state<unknown>();

  run = async (fn: () => Promise<void>): Promise<void> => {
    this.busy = true;
    this.error = undefined;
    try {
      await fn();
    } catch (err) {
      this.error = err;
    } finally {
      this.busy = false;
    }
  };
}
