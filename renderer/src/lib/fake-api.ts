import { vi } from 'vitest';
import type { Client } from '../../../shared/client.ts';
import type { EventName, EventPayload, Input, Output, RequestName } from '../../../shared/contract.ts';
import { AppError } from '../../../shared/errors.ts';

/**
 * For specs only: stands in for lib/api.ts, so a component is tested against the contract without
 * a core. A spec mocks the module with
 *   vi.mock('…/lib/api.ts', async () => (await import('…/lib/fake-api.ts')).apiModule);
 * answers requests with `fake.answer(name, fn)` and sends events with `fake.emit(name, payload)`.
 */
type Answer<K extends RequestName> = (input: Input<K>) => Output<K> | Promise<Output<K>>;

function createFake() {
  let answers = new Map<RequestName, Answer<never>>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();

  const api = {
    invoke: vi.fn(async (name: RequestName, input: unknown) => {
      const answer = answers.get(name) as ((input: unknown) => unknown) | undefined;
      if (!answer) throw new AppError('INTERNAL', `The fake api has no answer for ${name}.`);
      return answer(input);
    }),
    on: vi.fn((name: EventName, listener: (payload: never) => void) => {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    }),
  } as unknown as Client & { invoke: ReturnType<typeof vi.fn>; on: ReturnType<typeof vi.fn> };

  return {
    api,
    answer<K extends RequestName>(name: K, fn: Answer<K>): void {
      answers.set(name, fn as Answer<never>);
    },
    emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
      for (const listener of listeners.get(name) ?? []) (listener as (payload: EventPayload<E>) => void)(payload);
    },
    reset(): void {
      answers = new Map();
      listeners.clear();
      api.invoke.mockClear();
      api.on.mockClear();
    },
  };
}

export const fake = createFake();
export const apiModule = { api: fake.api };
