import { isWireError, type ErrorCode } from '../../../shared/errors.ts';

export interface Explained {
  message: string;
  /** What the operator can do about it, when the message itself does not say. */
  next?: string;
}

const NEXT: Partial<Record<ErrorCode, string>> = {
  UNAVAILABLE: 'The console reconnects by itself; try again in a moment.',
  TIMEOUT: 'Try again; if it keeps timing out, check the network path to the host.',
  INTERNAL: 'If the message does not say how to fix it, restart the console and report the message.',
};

/** Any thrown value in words, with a next step. */
export function explain(err: unknown): Explained {
  if (isWireError(err)) return { message: err.message, next: NEXT[err.code] };
  const message = err instanceof Error ? err.message : String(err);
  return {
    message: `Something unexpected went wrong in the window: ${message}`,
    next: 'Reload the window (Ctrl+R); if it happens again, report the message.',
  };
}

/**
 * The messages of an error that belong to form fields: the core's `detail.issues[].path` (zod
 * paths, with `prefix` stripped for inputs that wrap the form, e.g. "host." of hosts.update)
 * or its `detail.field`. Empty when nothing maps, so the caller shows a banner instead.
 */
export function fieldErrors<F extends string>(err: unknown, fields: readonly F[], prefix = ''): Partial<Record<F, string>> {
  const found: Partial<Record<F, string>> = {};
  if (!isWireError(err) || typeof err.detail !== 'object' || err.detail === null) return found;
  const detail = err.detail as { issues?: unknown; field?: unknown };
  const put = (path: unknown, message: unknown) => {
    if (typeof path !== 'string' || typeof message !== 'string') return;
    const field = (path.startsWith(prefix) ? path.slice(prefix.length) : path) as F;
    if (fields.includes(field) && found[field] === undefined) found[field] = message;
  };
  if (Array.isArray(detail.issues)) for (const issue of detail.issues) put(issue?.path, issue?.message);
  else put(detail.field, err.message);
  return found;
}
