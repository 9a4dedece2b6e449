import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Core } from '../../electron/core/core.ts';
import { serve, type Served } from '../../electron/serve/server.ts';

let served: Served;
let core: Core;
const secretOutside = 'outside-the-renderer';

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'icbd-serve-'));
  const renderer = join(base, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(renderer, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(base, 'secret.txt'), secretOutside);
  core = new Core({ home: join(base, 'home'), door: 'browser' });
  served = await serve({ core, rendererDir: renderer, port: 0 });
});
afterAll(async () => {
  await served.close();
  await core.close();
});

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: served.port, path, headers: { host: `127.0.0.1:${served.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const cookie = () => `icbd_token=${served.token}`;

describe('browser mode server', () => {
  it('listens on 127.0.0.1 only and prints a URL with the token', () => {
    expect(served.url).toBe(`http://127.0.0.1:${served.port}/?token=${served.token}`);
    expect(served.token.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses every request without the token', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/assets/a.js')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { cookie: 'icbd_token=wrong' })).status).toBe(401);
  });

  it('trades the URL token for a strict HttpOnly cookie and serves with a CSP', async () => {
    const first = await get(`/?token=${served.token}`);
    expect(first.status).toBe(303);
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await get('/', { cookie: cookie() });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
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
      const ws = new WebSocket(`ws://127.0.0.1:${served.port}/api`, { headers });
      ws.once('open', () => resolve({ ok: true, ws }));
      ws.once('error', () => resolve({ ok: false, ws }));
    });

  it('opens the WebSocket only with the token and this server as Origin', async () => {
    const origin = `http://127.0.0.1:${served.port}`;
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
    const { ws } = await socket({ origin: `http://127.0.0.1:${served.port}`, cookie: cookie() });
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
});
