import type { CustomScheme, Protocol } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.ts';
import { rendererFile } from '../core/util/renderer-file.ts';

/**
 * The window loads the built renderer from app://renderer/, never from file:// (which would give
 * the page the run of the disk) nor from a local HTTP server (which other programs could reach).
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'renderer';
export const RENDERER_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * standard: relative URLs and a real origin (app://renderer); secure: a secure context, like
 * https; corsEnabled: Vite emits <script type="module" crossorigin>, which Chromium fetches in
 * CORS mode. Nothing here bypasses the CSP.
 */
export const PRIVILEGED_SCHEME: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, corsEnabled: true },
};

/** True for URLs of our renderer and nothing else (another host on the scheme included). */
export function isRendererUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

const HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
};

function refuse(status: number, text: string): Response {
  return new Response(`${text}\n`, { status, headers: { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** The response to one app:// request: a file of the built renderer under `root`, or a refusal. */
export async function rendererResponse(root: string, request: Request): Promise<Response> {
  if (!isRendererUrl(request.url)) return refuse(404, 'Not found.');
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'Only GET is served here.');
  // rendererFile refuses paths that leave root, encoded or not.
  const file = await rendererFile(root, new URL(request.url).pathname).catch(() => undefined);
  if (!file) return refuse(404, 'Not found.');
  const body = request.method === 'HEAD' ? null : new Uint8Array(file.body);
  return new Response(body, { status: 200, headers: { ...HEADERS, 'Content-Type': file.type } });
}

/** Serves app:// from `root` (out/renderer); call once the app is ready. */
export function serveRenderer(protocol: Pick<Protocol, 'handle'>, root: string): void {
  protocol.handle(APP_SCHEME, (request) => rendererResponse(root, request));
}
