/**
 * The renderer's Content-Security-Policy, one list for both doors: the Electron window's app://
 * protocol and browser mode's HTTP server send it as a header, and index.html carries it as a
 * meta tag. 'self' covers the WebSocket of browser mode (same host and port).
 */
const DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
];

export const CONTENT_SECURITY_POLICY = [...DIRECTIVES, "frame-ancestors 'none'"].join('; ');

/** Browsers ignore (and warn about) frame-ancestors in a meta tag; the headers carry it. */
export const META_CONTENT_SECURITY_POLICY = DIRECTIVES.join('; ');
