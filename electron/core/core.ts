import type { z } from 'zod';
import { requests, type EventName, type EventPayload, type Output, type ParsedInput, type Reply, type RequestName, isRequestName } from '../../shared/contract.ts';
import { AppError, toWire } from '../../shared/errors.ts';
import { AuditLog } from './audit/log.ts';
import { EventBus } from './events.ts';
import { InventoryStore } from './inventory/store.ts';
import { Jobs } from './jobs/jobs.ts';
import { APP_VERSION } from './version.ts';
import { hostHandlers } from './handlers/hosts.ts';
import { labHandlers } from './handlers/lab.ts';
import type { Handlers } from './handlers/types.ts';

export type Door = 'electron' | 'browser' | 'cli';

export interface CoreOptions {
  home: string;
  door: Door;
}

/**
 * The one implementation behind all three doors. `dispatch` is the only way in: it validates the
 * input against the contract, runs the handler, and turns any failure into a WireError.
 */
export class Core {
  readonly events = new EventBus();
  readonly jobs = new Jobs(this.events);
  readonly inventory: InventoryStore;
  readonly audit: AuditLog;
  readonly #handlers: Handlers;

  constructor(readonly options: CoreOptions) {
    this.inventory = new InventoryStore(options.home, this.events);
    this.audit = new AuditLog(options.home, options.door, this.events);
    this.#handlers = {
      'app.info': async () => ({ name: 'iCBD Console', version: APP_VERSION, home: options.home, door: options.door }),
      'audit.list': (query) => this.audit.list(query),
      'jobs.list': async () => this.jobs.list(),
      'jobs.cancel': async ({ id }) => ({ cancelled: this.jobs.cancel(id) }),
      ...hostHandlers(this.inventory),
      ...labHandlers(this.jobs, this.inventory),
    };
  }

  /** Starts background work a window needs (file watches); the CLI does without. */
  open(): void {
    this.inventory.watch();
  }

  close(): void {
    this.inventory.close();
  }

  async dispatch(name: unknown, rawInput: unknown): Promise<Reply> {
    try {
      if (!isRequestName(name)) throw new AppError('INVALID_INPUT', `There is no request called ${String(name)}.`);
      const input = parseInput(name, rawInput);
      const handler = this.#handlers[name] as (input: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(input) };
    } catch (err) {
      return { ok: false, error: toWire(err) };
    }
  }

  /** For in-process callers (the CLI): throws the rebuilt error instead of returning a Reply. */
  async call<K extends RequestName>(name: K, input: z.input<(typeof requests)[K]['input']>): Promise<Output<K>> {
    const reply = await this.dispatch(name, input);
    if (!reply.ok) throw new AppError(reply.error.code, reply.error.message, reply.error.detail);
    return reply.value as Output<K>;
  }

  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.events.on(name, listener);
  }
}

function parseInput<K extends RequestName>(name: K, raw: unknown): ParsedInput<K> {
  const parsed = requests[name].input.safeParse(raw ?? {});
  if (parsed.success) return parsed.data as ParsedInput<K>;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const message = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
  throw new AppError('INVALID_INPUT', message || 'Invalid input.', { issues });
}
