import { fromWire } from './errors.ts';
import type { EventName, EventPayload, Input, Output, Reply, RequestName } from './contract.ts';

/** How a door carries requests and events; the Electron preload and the WebSocket client each provide one. */
export interface Transport {
  invoke(name: RequestName, input: unknown): Promise<Reply>;
  subscribe(name: EventName, listener: (payload: unknown) => void): () => void;
}

export interface Client {
  invoke<K extends RequestName>(name: K, input: Input<K>): Promise<Output<K>>;
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export function createClient(transport: Transport): Client {
  return {
    async invoke(name, input) {
      const reply = await transport.invoke(name, input);
      if (!reply.ok) throw fromWire(reply.error);
      return reply.value as never;
    },
    on(name, listener) {
      return transport.subscribe(name, listener as (payload: unknown) => void);
    },
  };
}
