/**
 * Errors cross every boundary (IPC, WebSocket, CLI) as plain data and are rebuilt on the other
 * side, so a renderer can tell "host not found" from "invalid input" by code, not by parsing text.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'UNAVAILABLE',
  'CANCELLED',
  'TIMEOUT',
  'REMOTE_FAILED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  code: ErrorCode;
  message: string;
  detail?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }

  toWire(): WireError {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.message === 'string' && ERROR_CODES.includes(v.code as ErrorCode);
}

/** Anything thrown becomes a WireError; unknown failures keep their message but not their stack. */
export function toWire(err: unknown): WireError {
  if (err instanceof AppError) return err.toWire();
  if (isWireError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}

export function fromWire(wire: WireError): AppError {
  return new AppError(wire.code, wire.message, wire.detail);
}
