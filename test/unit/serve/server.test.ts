import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { Core } from '../../../electron/core/core.ts';
import { cookieName, loopbackFor, serve, serveUrl, type Served } from '../../../electron/serve/server.ts';
import { serveToken, storedToken, TOKEN_FILE } from '../../../electron/serve/token.ts';

let served: Served;
let core: Core;
let base: string;
let renderer: string;
const secretOutside = 'outside-the-renderer';

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'icbd-serve-'));
  renderer = join(base, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(renderer, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(base, 'secret.txt'), secretOutside);
  core = new Core({ home: join(base, 'home'), door: 'browser' });
  served = await serve({ core, rendererDir: renderer, host: loopbackFor(base), port: 0 });
});
afterAll(async () => {
  await served.close();
  await core.close();
});

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: served.host, port: served.port, path, headers: { host: `${served.host}:${served.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const cookie = () => `${cookieName(served.port)}=${served.token}`;

describe('browser mode server', () => {
  it('listens on a loopback address of its own and prints a URL with the token', () => {
    expect(served.host).toMatch(/^127\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])\.\d+\.\d+$/);
    expect(served.host).toBe(loopbackFor(base));
    expect(served.url).toBe(`http://${served.host}:${served.port}/?token=${served.token}`);
    expect(served.token.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses every request without the token', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/assets/a.js')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { cookie: `${cookieName(served.port)}=wrong` })).status).toBe(401);
    // Cookies are not told apart by port: another server's cookie on this host is not this one's.
    expect((await get('/', { cookie: `${cookieName(served.port + 1)}=${served.token}` })).status).toBe(401);
  });

  it('trades the URL token for a strict HttpOnly cookie and serves with a CSP', async () => {
    const first = await get(`/?token=${served.token}`);
    expect(first.status).toBe(303);
    expect(String(first.headers['set-cookie'])).toBe(`${cookieName(served.port)}=${served.token}; HttpOnly; SameSite=Strict; Path=/`);
    const page = await get('/', { cookie: cookie() });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });

  it('lets a one-time code in once, within a minute, and trades it for the same cookie', async () => {
    const code = new URL(served.oneTimeUrl()).searchParams.get('code')!;
    const first = await get(`/?code=${code}`);
    expect(first.status).toBe(303);
    expect(String(first.headers['set-cookie'])).toBe(`${cookieName(served.port)}=${served.token}; HttpOnly; SameSite=Strict; Path=/`);
    expect((await get(`/?code=${code}`)).status).toBe(401);
    const late = new URL(served.oneTimeUrl()).searchParams.get('code')!;
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect((await get(`/?code=${late}`)).status).toBe(401);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('refuses a foreign Host header (DNS rebinding), and localhost, whose cookies every local server gets', async () => {
    expect((await get('/', { cookie: cookie(), host: `localhost:${served.port}` })).status).toBe(421);
    expect((await get('/', { cookie: cookie(), host: `evil.example:${served.port}` })).status).toBe(421);
  });

  it('never serves a file outside the renderer', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const res = await get(path, { cookie: cookie() });
      expect(res.body, path).not.toContain(secretOutside);
    }
  });

  const socket = (headers: Record<string, string>) =>
    new Promise<{ ok: boolean; ws: WebSocket }>((resolve) => {
      const ws = new WebSocket(`ws://${served.host}:${served.port}/api`, { headers });
      ws.once('open', () => resolve({ ok: true, ws }));
      ws.once('error', () => resolve({ ok: false, ws }));
    });

  it('opens the WebSocket only with the token and this server as Origin', async () => {
    const origin = `http://${served.host}:${served.port}`;
    expect((await socket({ origin })).ok).toBe(false);
    expect((await socket({ origin: 'http://evil.example', cookie: cookie() })).ok).toBe(false);
    const good = await socket({ origin, cookie: cookie() });
    expect(good.ok).toBe(true);
    const reply = await new Promise<unknown>((resolve) => {
      good.ws.once('message', (d) => resolve(JSON.parse(String(d))));
      good.ws.send(JSON.stringify({ t: 'req', id: 1, name: 'app.info', input: {} }));
    });
    expect(reply).toMatchObject({ t: 'res', id: 1, reply: { ok: true, value: { door: 'browser' } } });
    good.ws.close();
  });

  it("closes the shells a tab opened when the tab goes away", async () => {
    const { ws } = await socket({ origin: `http://${served.host}:${served.port}`, cookie: cookie() });
    const reply = await new Promise<{ reply: { ok: boolean; value: { id: string } } }>((resolve) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))));
      ws.send(JSON.stringify({ t: 'req', id: 7, name: 'terminal.open', input: { cols: 80, rows: 24 } }));
    });
    expect(reply.reply.ok).toBe(true);
    const terminals = await core.terminals();
    expect(terminals.list().map((t) => t.id)).toContain(reply.reply.value.id);
    ws.close();
    await expect.poll(() => terminals.list().length).toBe(0);
  });

  it("keeps a tab's shells its own: another tab sees none of their output and cannot type into or close them", async () => {
    const origin = `http://${served.host}:${served.port}`;
    const [a, b] = [await socket({ origin, cookie: cookie() }), await socket({ origin, cookie: cookie() })];
    const seenByB: unknown[] = [];
    let seenByA = '';
    const replies = new Map<number, (m: { reply: { ok: boolean; value?: { id: string }; error?: { code: string } } }) => void>();
    for (const { ws } of [a, b])
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.t === 'res') replies.get(m.id)?.(m);
        else if (ws === b.ws) seenByB.push(m.payload);
        else seenByA += m.payload.data ?? '';
      });
    const ask = (ws: WebSocket, id: number, name: string, input: unknown) =>
      new Promise<{ reply: { ok: boolean; value?: { id: string }; error?: { code: string } } }>((resolve) => {
        replies.set(id, resolve);
        ws.send(JSON.stringify({ t: 'req', id, name, input }));
      });
    for (const { ws } of [a, b]) ws.send(JSON.stringify({ t: 'sub', name: 'terminal.event' }));
    const opened = await ask(a.ws, 11, 'terminal.open', { cols: 80, rows: 24 });
    const id = opened.reply.value!.id;
    expect((await ask(b.ws, 12, 'terminal.write', { id, data: 'exit\n' })).reply.error?.code).toBe('NOT_FOUND');
    expect((await ask(b.ws, 13, 'terminal.close', { id })).reply.error?.code).toBe('NOT_FOUND');
    expect((await ask(a.ws, 14, 'terminal.write', { id, data: 'echo only-for-a\n' })).reply.ok).toBe(true);
    await expect.poll(() => seenByA).toContain('only-for-a');
    const terminals = await core.terminals();
    expect(terminals.list().map((t) => t.id)).toContain(id);
    expect((await ask(a.ws, 15, 'terminal.close', { id })).reply.ok).toBe(true);
    await expect.poll(() => terminals.list().map((t) => t.id)).not.toContain(id);
    expect(seenByB).toEqual([]);
    a.ws.close();
    b.ws.close();
  });

  it('answers a plain GET of the WebSocket path, so a tab can tell "token refused" from "server gone"', async () => {
    expect((await get('/api', { cookie: cookie() })).status).toBe(204);
    const refused = await get('/api', { cookie: `${cookieName(served.port)}=an-old-token` });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('restarted with a new token');
    expect(refused.body).toContain('npm run serve -- --print-url');
  });

  it('accepts the tabs of the previous run when restarted with the same token on the same port', async () => {
    const home = join(base, 'restart-home');
    const first = await serveToken(home);
    const host = loopbackFor(home);
    const before = await serve({ core, rendererDir: renderer, host, port: 0, token: first.token });
    const { port } = before;
    await before.close();
    const second = await serveToken(home);
    expect(second.token).toBe(first.token);
    const after = await serve({ core, rendererDir: renderer, host, port, token: second.token });
    try {
      const tab = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://${host}:${port}/api`, { headers: { origin: `http://${host}:${port}`, cookie: `${cookieName(port)}=${first.token}` } });
        ws.once('open', () => (ws.close(), resolve(true)));
        ws.once('error', () => resolve(false));
      });
      expect(tab).toBe(true);
      expect(after.url).toBe(serveUrl(host, port, first.token));
    } finally {
      await after.close();
    }
  });
});

describe('the token kept in the data directory', () => {
  const fresh = () => mkdtempSync(join(tmpdir(), 'icbd-serve-token-'));

  it('is made once, readable by its owner only, and the same on the next run', async () => {
    const home = fresh();
    expect(await storedToken(home)).toMatchObject({ missing: true });
    const first = await serveToken(home);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.note).toMatch(/^New token, kept in .*serve-token for the next runs/);
    expect(statSync(join(home, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    const again = await serveToken(home);
    expect(again).toEqual({ token: first.token, note: expect.stringMatching(/^Same token as before/) });
    expect(await storedToken(home)).toEqual({ token: first.token });
  });

  it('is replaced on --new-token, and the old one is gone from the file', async () => {
    const home = fresh();
    const old = await serveToken(home);
    const rotated = await serveToken(home, { rotate: true });
    expect(rotated.token).not.toBe(old.token);
    expect(rotated.note).toMatch(/^New token \(--new-token\)/);
    expect(readFileSync(join(home, TOKEN_FILE), 'utf8').trim()).toBe(rotated.token);
    expect((await serveToken(home)).token).toBe(rotated.token);
  });

  it('is not used when others could have read it, when it is no token, or when it is a symlink', async () => {
    const home = fresh();
    const leaked = await serveToken(home);
    chmodSync(join(home, TOKEN_FILE), 0o644);
    expect(await storedToken(home)).toMatchObject({ why: expect.stringContaining('could be read by other users (mode 644)') });
    const replaced = await serveToken(home);
    expect(replaced.token).not.toBe(leaked.token);
    expect(replaced.note).toMatch(/^New token, because .* could be read by other users/);
    expect(statSync(join(home, TOKEN_FILE)).mode & 0o777).toBe(0o600);

    writeFileSync(join(home, TOKEN_FILE), 'not a token\n', { mode: 0o600 });
    expect(await storedToken(home)).toMatchObject({ why: expect.stringContaining('does not hold a token') });

    const elsewhere = join(fresh(), 'chosen');
    writeFileSync(elsewhere, `${'a'.repeat(43)}\n`, { mode: 0o600 });
    const linked = fresh();
    symlinkSync(elsewhere, join(linked, TOKEN_FILE));
    expect(await storedToken(linked)).toMatchObject({ why: expect.stringContaining('cannot be read (ELOOP)') });
    expect((await serveToken(linked)).token).not.toBe('a'.repeat(43));
    expect(readFileSync(elsewhere, 'utf8')).toBe(`${'a'.repeat(43)}\n`);
  });
});
