import type { Transport } from '../../../shared/client.ts';
import type { EventName, Reply, RequestName } from '../../../shared/contract.ts';

/**
 * Browser mode's transport: one WebSocket to the page's own origin (the token travels in the
 * cookie the server set). Requests sent while the socket connects wait for it; requests sent
 * while it is down, and those in flight when it drops, fail at once with UNAVAILABLE (a button
 * must never spin forever); it reconnects and re-subscribes to every event.
 */
export function wsTransport(url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`): Transport {
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket;
  let opened: Promise<boolean>;
  const unavailable: Reply = { ok: false, error: { code: 'UNAVAILABLE', message: 'Lost the connection to icbd serve; is it still running?' } };

  const connect = () => {
    socket = new WebSocket(url);
    opened = new Promise((resolve) => {
      socket.addEventListener('open', () => resolve(true), { once: true });
      socket.addEventListener('close', () => resolve(false), { once: true });
    });
    socket.addEventListener('open', () => {
      for (const name of listeners.keys()) socket.send(JSON.stringify({ t: 'sub', name }));
    });
    socket.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { t: string; id?: number; reply?: Reply; name?: EventName; payload?: unknown };
      if (msg.t === 'res' && msg.id !== undefined && msg.reply) {
        pending.get(msg.id)?.(msg.reply);
        pending.delete(msg.id);
      } else if (msg.t === 'ev' && msg.name) {
        for (const l of listeners.get(msg.name) ?? []) l(msg.payload);
      }
    });
    socket.addEventListener('close', () => {
      for (const resolve of pending.values()) resolve(unavailable);
      pending.clear();
      setTimeout(connect, 1000);
    });
  };
  connect();

  return {
    async invoke(name: RequestName, input: unknown) {
      if (!(await opened) || socket.readyState !== WebSocket.OPEN) return unavailable;
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ t: 'req', id, name, input }));
      });
    },
    subscribe(name, listener) {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ t: 'sub', name }));
      }
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
