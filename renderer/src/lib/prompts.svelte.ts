import type { Prompt } from '../../../shared/prompts.ts';
import { api } from './api.ts';

/**
 * Questions the core is waiting on (an unknown host key, a password), oldest first. Any window
 * may answer; the core then sends prompt.closed to all of them, which is what removes a question
 * here, so a window never keeps asking what another one answered.
 */
class PendingPrompts {
  prompts = $state.raw<Prompt[]>([]);

  /** Follows prompt and prompt.closed until the returned function is called. */
  follow(): () => void {
    const offAsked = api.on('prompt', (prompt) => this.#add([prompt]));
    const offClosed = api.on('prompt.closed', ({ id }) => {
      this.prompts = this.prompts.filter((p) => p.id !== id);
    });
    return () => {
      offAsked();
      offClosed();
    };
  }

  /** Questions asked before this window listened (opened or reloaded while one waits). */
  async refresh(): Promise<void> {
    try {
      this.#add(await api.invoke('prompts.list', {}));
    } catch {
      // Nothing to show: new questions still arrive as events, and a lost link has its own banner.
    }
  }

  /** Sends the answer; the question goes at once, not only when prompt.closed comes back. */
  async answer(id: string, answer: { accept: boolean } | { secret?: string }): Promise<void> {
    await api.invoke('prompts.answer', { id, ...answer });
    this.prompts = this.prompts.filter((p) => p.id !== id);
  }

  #add(prompts: Prompt[]): void {
    const known = new Set(this.prompts.map((p) => p.id));
    this.prompts = [...this.prompts, ...prompts.filter((p) => !known.has(p.id))];
  }
}

export const pendingPrompts = new PendingPrompts();
