import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isEventName, type EventName, type Reply } from '../../shared/contract.ts';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.ts';
import type { Core } from '../core/core.ts';
import { rendererFile } from '../core/util/renderer-file.ts';

export interface ServeOptions {
  core: Core;
  rendererDir: string;
  port: number;
  /** The loopback address to listen on (loopbackFor); 127.0.0.1 when absent. */
  host?: string;
  /** The data directory's kept token (token.ts); a fresh random one when absent. */
  token?: string;
}

export interface Served {
  url: string;
  host: string;
  port: number;
  token: string;
  /**
   * A URL that lets one browser in once, within a minute, without the token: what `--open` hands
   * to the browser, whose arguments every local user can read in /proc.
   */
  oneTimeUrl(): string;
  close(): Promise<void>;
}

/** The URL `icbd serve` prints: the only way in, until the token is traded for a cookie. */
export function serveUrl(host: string, port: number, token: string): string {
  return `http://${host}:${port}/?token=${token}`;
}

/**
 * The loopback address a data directory's server listens on. Cookies ignore ports, so a cookie of
 * 127.0.0.1 goes to every local web server the browser talks to on 127.0.0.1 (a dev server, another
 * tool's UI); on an address of the 127/8 block of its own, derived from the data directory so that
 * restarts (and --print-url) find it again, the cookie goes nowhere else. macOS answers only on
 * 127.0.0.1, so there it stays.
 */
export function loopbackFor(home: string): string {
  if (process.platform === 'darwin') return '127.0.0.1';
  const [a, b, c] = createHash('sha256').update(home).digest();
  // 127.0.0.0/16 is left out (127.0.0.1 and what other tools pick), and so are .0 and .255.
  return `127.${(a! % 254) + 1}.${b}.${(c! % 254) + 1}`;
}

/** How long a one-time code opens the door: long enough for a browser to start. */
const ONE_TIME_MS = 60_000;

/**
 * Cookies are per host, not per port: one name per port, so opening a second server's URL (another
 * data directory) does not replace the first server's cookie and sign its tabs out.
 */
export const cookieName = (port: number) => `icbd_token_${port}`;
const MAX_MESSAGE = 4 * 1024 * 1024;

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/**
 * Browser mode: the built renderer and the contract over one WebSocket, on a loopback address only.
 * Every request needs the token (in the URL once, or a one-time code, then a SameSite=Strict
 * cookie); the Host and
 * Origin headers must name this very server, which defeats DNS rebinding.
 */
export async function serve(options: ServeOptions): Promise<Served> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const host = options.host ?? '127.0.0.1';
  let port = options.port;
  // Not localhost: its cookies would go to every server on 127.0.0.1 again.
  const allowedHosts = () => new Set([`${host}:${port}`]);
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));

  const tokenMatches = (candidate: string | undefined | null) => {
    if (!candidate) return false;
    const buf = Buffer.from(candidate);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  };
  const requestToken = (req: IncomingMessage, url: URL) => url.searchParams.get('token') ?? cookie(req.headers.cookie, cookieName(port));
  // code -> its expiry; a code is spent by its first use, expired or not.
  const codes = new Map<string, number>();
  const spendCode = (code: string | null) => {
    if (!code) return false;
    const expires = codes.get(code);
    codes.delete(code);
    return expires !== undefined && Date.now() < expires;
  };

  const refuse = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text + '\n');
  };

  const http = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse(res, 421, 'Wrong Host header: open the URL that icbd serve printed.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is served here.');
    const fromUrl = url.searchParams.get('token') ?? (spendCode(url.searchParams.get('code')) ? token : null);
    if (!tokenMatches(fromUrl ?? requestToken(req, url)))
      return refuse(
        res,
        401,
        'This token or one-time code is not (or no longer) accepted: icbd serve was restarted with a new token, the code was used or is older than a minute, or this is not its URL. Open the URL with ?token=... that it printed on its first line (npm run serve -- --print-url prints it again).',
      );
    if (fromUrl) {
      // Trade the token (or code) in the URL for a cookie, so it leaves the address bar and history.
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname,
      });
      return res.end();
    }
    // A tab whose WebSocket fails asks here, as plain HTTP, whether its cookie still holds: a
    // browser does not tell a page why a WebSocket handshake failed, so 401 vs no answer is the sign.
    if (url.pathname === '/api') {
      res.writeHead(204, SECURITY_HEADERS);
      return res.end();
    }
    const file = await rendererFile(options.rendererDir, url.pathname).catch(() => undefined);
    if (!file) return refuse(res, 404, 'Not found.');
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ok =
      url.pathname === '/api' &&
      allowedHosts().has(req.headers.host ?? '') &&
      allowedOrigins().has(req.headers.origin ?? '') &&
      tokenMatches(requestToken(req, url));
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, options.core));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;

  return {
    url: serveUrl(host, port, token),
    host,
    port,
    token,
    oneTimeUrl: () => {
      const now = Date.now();
      for (const [code, expires] of codes) if (expires <= now) codes.delete(code);
      const code = randomBytes(16).toString('base64url');
      codes.set(code, now + ONE_TIME_MS);
      return `http://${host}:${port}/?code=${code}`;
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

// The requests that act on one open terminal, by its id.
const TERMINAL_REQUESTS: ReadonlySet<unknown> = new Set(['terminal.write', 'terminal.resize', 'terminal.ack', 'terminal.close']);

/**
 * One browser tab: requests answered in any order, events forwarded only once subscribed. The
 * shells a tab opened are its own: no other tab sees their output or can type into, resize or
 * close them, and they end with the tab.
 */
function connect(ws: WebSocket, core: Core): void {
  const subscriptions = new Map<EventName, () => void>();
  const terminals = new Set<string>();
  const send = (message: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const notOurs = (input: unknown): Reply | undefined => {
    const id = (input as { id?: unknown } | null | undefined)?.id;
    if (typeof id === 'string' && terminals.has(id)) return undefined;
    return { ok: false, error: { code: 'NOT_FOUND', message: `There is no terminal ${String(id)} in this tab: a tab reaches only the shells it opened.` } };
  };
  ws.on('message', async (data) => {
    let message: { t?: unknown; id?: unknown; name?: unknown; input?: unknown };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return ws.close(1003, 'not JSON');
    }
    if (message.t === 'req' && typeof message.id === 'number') {
      const refused = TERMINAL_REQUESTS.has(message.name) ? notOurs(message.input) : undefined;
      const reply = refused ?? (await core.dispatch(message.name, message.input));
      if (message.name === 'terminal.open' && reply.ok) terminals.add((reply.value as { id: string }).id);
      if (message.name === 'terminal.close' && reply.ok) terminals.delete((message.input as { id: string }).id);
      send({ t: 'res', id: message.id, reply });
    } else if (message.t === 'sub' && isEventName(message.name) && !subscriptions.has(message.name)) {
      const name = message.name;
      const mine = name === 'terminal.event' ? (payload: unknown) => terminals.has((payload as { id: string }).id) : () => true;
      subscriptions.set(name, core.on(name, (payload) => mine(payload) && send({ t: 'ev', name, payload })));
    } else {
      ws.close(1008, 'unknown message');
    }
  });
  ws.on('close', () => {
    for (const off of subscriptions.values()) off();
    for (const id of terminals) void core.dispatch('terminal.close', { id });
  });
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
