// electron/core/: the app itself in plain Node (never electron); this file composes it for the three doors.
import type { z } from 'zod';
import { requests, type EventName, type EventPayload, type Output, type ParsedInput, type Reply, type RequestName, isRequestName } from '../../shared/contract.ts';
import { AppError, toWire } from '../../shared/errors.ts';
import { AuditLog } from './audit/log.ts';
import { EventBus } from './util/events.ts';
import { fileHandlers } from './handlers/files.ts';
import { hostHandlers } from './handlers/hosts.ts';
import { installHandlers } from './handlers/install.ts';
import { overviewHandlers } from './handlers/overview.ts';
import { labHandlers } from './handlers/lab.ts';
import { replicationHandlers } from './handlers/replication.ts';
import { scheduleHandlers } from './handlers/schedules.ts';
import { sshHandlers } from './handlers/ssh.ts';
import { terminalHandlers } from './handlers/terminal.ts';
import type { Handlers } from './handlers/types.ts';
import { InventoryStore } from './inventory/store.ts';
import { InstallStore } from './installer/saved-state.ts';
import { InstallService } from './installer/service.ts';
import { Jobs } from './jobs/jobs.ts';
import { openOverview } from './overview/service.ts';
import { ReplicationSettings } from './replication/settings.ts';
import { openReplication, type ReplicationStack } from './transfers/stack.ts';
import { EventAsker, type Asker } from './util/prompts.ts';
import { openSecrets } from './secrets/keychain.ts';
import { ScheduleService } from './schedules/service.ts';
import { HealthMonitor } from './ssh/health.ts';
import { SshPool } from './ssh/pool.ts';
import { Terminals } from './terminal/sessions.ts';
import { APP_VERSION } from './util/version.ts';

export type Door = 'electron' | 'browser' | 'cli';

export interface CoreOptions {
  home: string;
  door: Door;
  /** How to ask the operator; the window and browser mode ask through prompt events. */
  asker?: Asker;
  /** Requests only this door can answer (the window's own file dialog), in place of the core's refusal. */
  doorHandlers?: Partial<Handlers>;
}

/**
 * The one implementation behind all three doors. `dispatch` is the only way in: it validates the
 * input against the contract, runs the handler, and turns any failure into a WireError.
 * SSH, health and terminals start on first use, so a CLI command that needs none pays for none.
 */
export class Core {
  readonly events = new EventBus();
  readonly jobs = new Jobs(this.events);
  readonly inventory: InventoryStore;
  readonly audit: AuditLog;
  readonly installer: InstallService;
  readonly schedules: ScheduleService;
  readonly #asker: Asker;
  readonly #handlers: Handlers;
  #pool?: Promise<SshPool>;
  #health?: Promise<HealthMonitor>;
  #terminals?: Promise<Terminals>;
  #replication?: Promise<ReplicationStack>;

  constructor(readonly options: CoreOptions) {
    this.inventory = new InventoryStore(options.home, this.events);
    this.audit = new AuditLog(options.home, options.door, this.events);
    const eventAsker = options.asker ? undefined : new EventAsker(this.events);
    const replicationSettings = new ReplicationSettings(options.home);
    this.#asker = options.asker ?? eventAsker!;
    this.installer = new InstallService({
      pool: () => this.ssh(),
      hosts: () => this.inventory.list(),
      audit: (record) => this.audit.append(record),
      store: new InstallStore(options.home),
      replicationAddress: async (h) => (await replicationSettings.get(h.name, h.role)).replicationAddress,
      repositoryRoot: async (h) => (await replicationSettings.get(h.name, h.role)).root,
    });
    this.schedules = new ScheduleService({
      home: options.home,
      call: (name, input) => this.call(name, input),
      events: this.events,
      audit: (record) => this.audit.append(record),
    });
    this.#handlers = {
      'app.info': async () => ({ name: 'iCBD Console', version: APP_VERSION, home: options.home, door: options.door }),
      'audit.list': (query) => this.audit.list(query),
      'jobs.list': async () => this.jobs.list(),
      'jobs.cancel': async ({ id }) => ({ cancelled: this.jobs.cancel(id) }),
      ...hostHandlers(this.inventory),
      ...labHandlers(this.jobs, this.inventory, () => this.ssh()),
      ...sshHandlers({ jobs: this.jobs, audit: this.audit, hosts: () => this.inventory.list(), pool: () => this.ssh(), health: () => this.health(), ...(eventAsker && { asker: eventAsker }) }),
      ...terminalHandlers(() => this.terminals()),
      ...replicationHandlers(() => this.replication()),
      ...installHandlers(this.jobs, this.installer),
      ...fileHandlers(),
      ...options.doorHandlers,
      ...scheduleHandlers(this.schedules),
      ...overviewHandlers(openOverview({ home: options.home, getHosts: () => this.inventory.list(), health: () => this.health(), stack: () => this.replication(), schedules: async () => (await this.schedules.list()).schedules })),
    };
  }

  ssh(): Promise<SshPool> {
    this.#pool ??= openSecrets().then(
      (secrets) =>
        new SshPool({
          home: this.options.home,
          getHosts: () => this.inventory.list(),
          secrets,
          askHostKey: (q) => this.#asker.askHostKey(q),
          askSecret: (q) => this.#asker.askSecret(q),
        }),
    );
    return this.#pool;
  }

  health(): Promise<HealthMonitor> {
    this.#health ??= this.ssh().then(
      (pool) => new HealthMonitor(pool, { getHosts: () => this.inventory.list(), onChange: (h) => this.events.emit('health.changed', h) }),
    );
    return this.#health;
  }

  terminals(): Promise<Terminals> {
    this.#terminals ??= this.ssh().then(
      (pool) => new Terminals((host, size) => pool.shell(host, size), (e) => this.events.emit('terminal.event', e), { audit: this.audit, hosts: () => this.inventory.list() }),
    );
    return this.#terminals;
  }

  replication(): Promise<ReplicationStack> {
    this.#replication ??= this.ssh().then((pool) =>
      openReplication({ home: this.options.home, pool, getHosts: () => this.inventory.list(), events: this.events, audit: this.audit, trust: (from, to) => this.installer.trustPair(from, to) }),
    );
    return this.#replication;
  }

  /** Starts what a window needs in the background: the inventory watch, host health and the schedules. */
  open(): void {
    this.inventory.watch();
    void this.health().then((h) => h.start());
    this.schedules.start(this.options.door === 'electron' ? 'window' : this.options.door === 'browser' ? 'browser mode' : 'icbd');
  }

  async close(): Promise<void> {
    await this.schedules.stop();
    this.inventory.close();
    if (this.#health) (await this.#health).stop();
    if (this.#terminals) (await this.#terminals).closeAll();
    if (this.#pool) (await this.#pool).close();
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
