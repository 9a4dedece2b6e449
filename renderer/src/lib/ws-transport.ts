import type { Transport } from '../../../shared/client.ts';
import type { EventName, Reply, RequestName } from '../../../shared/contract.ts';

/** The detail.reason of the error every request gets once icbd serve has refused this tab's token. */
export const TOKEN_REFUSED = 'serve-token-refused';

/**
 * Browser mode's transport: one WebSocket to the page's own origin (the token travels in the
 * cookie the server set). Requests sent while the socket connects wait for it; requests sent
 * while it is down, and those in flight when it drops, fail at once with UNAVAILABLE (a button
 * must never spin forever); it reconnects and re-subscribes to every event.
 *
 * A server restarted with a new token refuses the cookie for good: when a handshake fails, a plain
 * GET of the same path tells a refusal (401) from a server that is not there (no answer), and a
 * refused tab stops reconnecting; every request then fails with TOKEN_REFUSED.
 */
export function wsTransport(url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`, probeUrl = `${location.origin}/api`): Transport {
  const pending = new Map<number, (reply: Reply) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket;
  let opened: Promise<boolean>;
  const unavailable: Reply = { ok: false, error: { code: 'UNAVAILABLE', message: 'Lost the connection to icbd serve; is it still running?' } };
  const refusal: Reply = {
    ok: false,
    error: {
      code: 'UNAUTHORIZED',
      message: "icbd serve no longer accepts this tab's token: it was restarted with a new one. Open the URL it printed.",
      detail: { reason: TOKEN_REFUSED },
    },
  };
  let refused = false;

  // Whether the server answers a plain GET with 401: refused, not merely unreachable.
  const refusedNow = () =>
    fetch(probeUrl, { cache: 'no-store', credentials: 'same-origin' }).then(
      (res) => res.status === 401,
      () => false,
    );

  const connect = () => {
    if (refused) return;
    socket = new WebSocket(url);
    // Settled once it is known whether this socket serves: requests wait for that, not longer.
    opened = new Promise((resolve) => {
      let wasOpen = false;
      socket.addEventListener('open', () => {
        wasOpen = true;
        for (const name of listeners.keys()) socket.send(JSON.stringify({ t: 'sub', name }));
        resolve(true);
      });
      socket.addEventListener('close', () => {
        for (const settle of pending.values()) settle(unavailable);
        pending.clear();
        // A connection that was up and dropped is simply retried: only a failed handshake is asked about.
        if (wasOpen) return void setTimeout(connect, 1000);
        void refusedNow().then((no) => {
          refused ||= no;
          if (!refused) setTimeout(connect, 1000);
          resolve(false);
        });
      });
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
  };
  connect();

  return {
    async invoke(name: RequestName, input: unknown) {
      // Asked here too, not only after a failed handshake: the browser may hold back a reconnecting
      // socket for a while, and a refusal is final (refused is never unset).
      if (!(await opened) || socket.readyState !== WebSocket.OPEN) return refused || (refused = await refusedNow()) ? refusal : unavailable;
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
