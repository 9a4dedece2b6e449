import { tick } from 'svelte';

/**
 * A destructive action asked about in place, as Cockpit does: the question takes the row, the
 * focus goes to the safe answer, Escape keeps, and the focus returns to the button that asked.
 * A failure stays beside the row until the operator asks again or keeps.
 */
export class InlineConfirm {
  asking = $state(false);
  busy = $state(false);
  failure = $state<unknown>();
  /** The button that asks (bind:this), and the safe answer that takes the focus. */
  trigger = $state<HTMLButtonElement>();
  safe = $state<HTMLButtonElement>();

  constructor(private readonly action: () => Promise<void>) {}

  ask = async (): Promise<void> => {
    this.asking = true;
    this.failure = undefined;
    await tick();
    this.safe?.focus();
  };

  keep = async (): Promise<void> => {
    this.asking = false;
    this.failure = undefined;
    await tick();
    this.trigger?.focus();
  };

  confirm = async (): Promise<void> => {
    this.busy = true;
    try {
      await this.action();
    } catch (err) {
      this.failure = err;
    } finally {
      this.busy = false;
    }
  };

  escapeKeeps = (event: KeyboardEvent): void => {
    if (event.key === 'Escape' && !this.busy) {
      event.preventDefault();
      void this.keep();
    }
  };
}
