import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors.ts';
import { findHost, inventory, inventoryProblems, type Host, type Inventory } from '../../../shared/inventory.ts';
import type { EventBus } from '../util/events.ts';
import { readFileIfExists, readJsonFile, withFileLock, writeFileAtomic } from '../util/files.ts';

export const INVENTORY_FILE = 'inventory.json';

/**
 * The host inventory, kept in one JSON file in the data directory. Every operation reads the file
 * afresh, so the CLI and an open window never work from stale copies; writes go through a lock
 * and an atomic rename. A change made by another door is noticed by a directory watch.
 */
export class InventoryStore {
  readonly path: string;
  #watcher: FSWatcher | undefined;
  #lastSeen = '';

  constructor(
    home: string,
    private readonly events?: EventBus,
  ) {
    this.path = join(home, INVENTORY_FILE);
  }

  async list(): Promise<Host[]> {
    return (await this.#read()).hosts;
  }

  async get(name: string): Promise<Host> {
    return findHost(await this.list(), name);
  }

  add(host: Host): Promise<Host> {
    return this.#modify((hosts) => {
      if (hosts.some((h) => h.name === host.name))
        throw new AppError('CONFLICT', `There is already a host named ${host.name}.`, { field: 'name' });
      return [[...hosts, host], host];
    });
  }

  update(name: string, host: Host): Promise<Host> {
    return this.#modify((hosts) => {
      const index = hosts.indexOf(findHost(hosts, name));
      if (host.name !== name && hosts.some((h) => h.name === host.name))
        throw new AppError('CONFLICT', `There is already a host named ${host.name}.`, { field: 'name' });
      const next = hosts.map((h, i) => (i === index ? host : h.jump === name ? { ...h, jump: host.name } : h));
      return [next, host];
    });
  }

  remove(name: string): Promise<string> {
    return this.#modify((hosts) => {
      findHost(hosts, name);
      const users = hosts.filter((h) => h.jump === name).map((h) => h.name);
      if (users.length)
        throw new AppError('CONFLICT', `${name} is the jump host of ${users.join(', ')}; change or remove those first.`, {
          field: 'name',
          users,
        });
      return [hosts.filter((h) => h.name !== name), name];
    });
  }

  /** Emits hosts.changed whenever the file changes, whoever changed it. */
  watch(): void {
    if (this.#watcher || !this.events) return;
    const dir = join(this.path, '..');
    let timer: NodeJS.Timeout | undefined;
    try {
      this.#watcher = watch(dir, { persistent: false }, (_type, file) => {
        if (file !== null && file !== INVENTORY_FILE) return;
        clearTimeout(timer);
        timer = setTimeout(() => void this.#announceIfChanged(), 50);
      });
    } catch {
      // The directory does not exist yet: the first write creates it and announces itself.
    }
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #announceIfChanged(): Promise<void> {
    const text = (await readFileIfExists(this.path).catch(() => undefined)) ?? '';
    if (text === this.#lastSeen) return;
    this.#lastSeen = text;
    const hosts = await this.list().catch(() => undefined);
    if (hosts) this.events?.emit('hosts.changed', { hosts });
  }

  async #read(): Promise<Inventory> {
    return (await readJsonFile(this.path, inventory, 'a valid inventory')) ?? { version: 1, hosts: [] };
  }


  async #modify<T>(change: (hosts: Host[]) => [Host[], T]): Promise<T> {
    const result = await withFileLock(this.path, async () => {
      const current = await this.#read();
      const [hosts, result] = change(current.hosts);
      const problems = inventoryProblems(hosts);
      if (problems.length) {
        const first = problems[0]!;
        throw new AppError('INVALID_INPUT', first.message, { field: first.field, problems });
      }
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, hosts } satisfies Inventory, null, 2) + '\n');
      return result;
    });
    this.watch();
    await this.#announceIfChanged();
    return result;
  }
}
