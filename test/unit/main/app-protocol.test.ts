import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../shared/csp.ts';
import { APP_SCHEME, PRIVILEGED_SCHEME, RENDERER_URL, isRendererUrl, rendererResponse, serveRenderer } from '../../../electron/main/app-protocol.ts';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'icbd-protocol-'));
  root = join(base, 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>iCBD</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(root, 'assets', 'app.css'), 'body{}');
  await writeFile(join(base, 'secret.js'), 'outside the renderer');
});
afterAll(() => rm(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => rendererResponse(root, new Request(url, { method }));

describe('app:// protocol', () => {
  it('serves the renderer with its content type and the CSP header', async () => {
    const cases = [
      [RENDERER_URL, 'text/html; charset=utf-8', '<!doctype html><title>iCBD</title>'],
      ['app://renderer/assets/app.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['app://renderer/assets/app.css', 'text/css; charset=utf-8', 'body{}'],
    ] as const;
    for (const [url, type, body] of cases) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(body);
    }
  });

  it.each([
    'app://renderer/../secret.js',
    'app://renderer/%2e%2e/secret.js',
    'app://renderer/assets/%2e%2e%2f%2e%2e%2fsecret.js',
    'app://renderer/..%5csecret.js',
    'app://renderer/%00index.html',
    'app://renderer/assets/missing.js',
  ])('refuses %s with 404, CSP included', async (url) => {
    const res = await get(url);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await res.text()).not.toContain('outside the renderer');
  });

  it('answers only its own host and only GET or HEAD', async () => {
    expect((await get('app://elsewhere/index.html')).status).toBe(404);
    expect((await get(RENDERER_URL, 'POST')).status).toBe(405);
    const head = await get(RENDERER_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('falls back to index.html for routes of the one-page app', async () => {
    expect(await (await get('app://renderer/hosts/imgs')).text()).toContain('<title>iCBD</title>');
  });

  it('is registered as a standard, secure scheme that does not bypass the CSP', () => {
    expect(PRIVILEGED_SCHEME.scheme).toBe(APP_SCHEME);
    expect(PRIVILEGED_SCHEME.privileges).toMatchObject({ standard: true, secure: true });
    expect(PRIVILEGED_SCHEME.privileges?.bypassCSP).toBeFalsy();
  });

  it('serveRenderer hands the scheme to protocol.handle', async () => {
    const handle = vi.fn();
    serveRenderer({ handle }, root);
    expect(handle).toHaveBeenCalledWith(APP_SCHEME, expect.any(Function));
    const handler = handle.mock.calls[0]![1] as (request: Request) => Promise<Response>;
    expect((await handler(new Request(RENDERER_URL))).status).toBe(200);
  });

  it('recognises renderer URLs and nothing else', () => {
    expect(isRendererUrl('app://renderer/index.html')).toBe(true);
    for (const url of ['app://renderer.evil/index.html', 'https://renderer/', 'app://other/', 'not a url', ''])
      expect(isRendererUrl(url), url).toBe(false);
  });
});
