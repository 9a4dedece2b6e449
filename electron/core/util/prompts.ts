import { randomUUID } from 'node:crypto';
import { AppError } from '../../../shared/errors.ts';
import { PROMPT_TIMEOUT_MS, type Prompt } from '../../../shared/prompts.ts';
import type { HostKeyQuestion, SecretQuestion } from '../../../shared/ssh.ts';
import type { EventBus } from './events.ts';

/** How the core asks the operator; the CLI brings its own (a terminal prompt, or --accept-new). */
export interface Asker {
  askHostKey(q: HostKeyQuestion): Promise<boolean>;
  askSecret(q: SecretQuestion): Promise<string | undefined>;
}

type Pending = { prompt: Prompt; resolve: (answer: { accept?: boolean; secret?: string }) => void };

/**
 * The window's and browser mode's asker: each question is a `prompt` event; whichever window
 * answers first wins, and the others see `prompt.closed`. Unanswered questions time out as "no".
 */
export class EventAsker implements Asker {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly events: EventBus) {}

  askHostKey(question: HostKeyQuestion): Promise<boolean> {
    return this.#ask({ id: randomUUID(), kind: 'hostKey', question }).then((a) => a.accept === true);
  }

  askSecret(q: SecretQuestion): Promise<string | undefined> {
    const question = { kind: q.kind, host: q.host, prompt: q.prompt, reason: q.reason, remembered: q.remembered };
    return this.#ask({ id: randomUUID(), kind: 'secret', question }).then((a) => a.secret);
  }

  /** Questions still open, for a window that opens (or reloads) while one waits. */
  open(): Prompt[] {
    return [...this.#pending.values()].map((p) => p.prompt);
  }

  answer(id: string, answer: { accept?: boolean; secret?: string }): void {
    const pending = this.#pending.get(id);
    if (!pending) throw new AppError('NOT_FOUND', 'That question was already answered or has timed out.');
    pending.resolve(answer);
  }

  #ask(prompt: Prompt): Promise<{ accept?: boolean; secret?: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({}), PROMPT_TIMEOUT_MS);
      const finish = (answer: { accept?: boolean; secret?: string }) => {
        clearTimeout(timer);
        this.#pending.delete(prompt.id);
        this.events.emit('prompt.closed', { id: prompt.id });
        resolve(answer);
      };
      this.#pending.set(prompt.id, { prompt, resolve: finish });
      this.events.emit('prompt', prompt);
    });
  }
}
