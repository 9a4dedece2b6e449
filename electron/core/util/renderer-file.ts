import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/**
 * The built renderer's file for a URL path, or undefined. Paths that leave the directory
 * (.., encoded or not) resolve to undefined; unknown paths fall back to index.html (one-page app).
 */
export async function rendererFile(root: string, urlPath: string): Promise<{ body: Buffer; type: string } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  const full = join(root, relative || 'index.html');
  if (full !== root && !full.startsWith(root + sep)) return undefined;
  const type = TYPES[extname(full)];
  try {
    if (type) return { body: await readFile(full), type };
  } catch {
    // fall through: an asset that is not there is a 404, a route is the app
  }
  if (extname(full)) return undefined;
  return { body: await readFile(join(root, 'index.html')), type: TYPES['.html']! };
}
