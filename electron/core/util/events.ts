import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from '../../../shared/contract.ts';

/** The core's typed event bus; doors forward what they subscribe to. */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Every open window or WebSocket subscribes once per event name.
    this.#emitter.setMaxListeners(0);
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this.#emitter.emit(name, payload);
  }

  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }
}
