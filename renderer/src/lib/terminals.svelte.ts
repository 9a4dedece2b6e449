import { tick } from 'svelte';
import type { TerminalEvent } from '../../../shared/ssh.ts';
import { api } from './api.ts';
import { AckBatcher } from './terminal/ack-batcher.ts';
import { XtermScreen, type Screen } from './terminal/xterm-screen.ts';

export type TabStatus =
  | { state: 'opening' }
  | { state: 'open' }
  | { state: 'exited'; code: number | null; signal: string | null }
  | { state: 'failed'; error: unknown };

export interface TerminalTab {
  /** Ours, known before the core names the session. */
  key: number;
  /** Undefined for a local shell. */
  host?: string;
  title: string;
  status: TabStatus;
  /** A keystroke or resize the core refused while the shell ran. */
  trouble?: unknown;
}

interface Live {
  screen: Screen;
  id?: string;
  acks?: AckBatcher;
}

/** How a shell ended, in a few words for its tab and its last line. */
export function endLabel(end: { code: number | null; signal: string | null }): string {
  // node-pty reports signals by number, ssh2 by name without "SIG".
  if (end.signal) return /^\d+$/.test(end.signal) ? `signal ${end.signal}` : `SIG${end.signal.replace(/^SIG/, '')}`;
  if (end.code !== null) return `exit ${end.code}`;
  return 'closed';
}

/**
 * The open shells of this window. They live here, not in the Terminal view, so that switching
 * views keeps every session, its screen and its scrollback; the view only shows them.
 */
class TerminalTabs {
  tabs = $state.raw<TerminalTab[]>([]);
  active = $state<number>();
  readonly #live = new Map<number, Live>();
  readonly #keys = new Map<string, number>();
  // Output can overtake the reply of terminal.open; it waits here until that reply names its id.
  // Sessions of other windows (browser mode) send events too: dropped once nothing is opening.
  readonly #early = new Map<string, TerminalEvent[]>();
  #opening = 0;
  #nextKey = 1;
  #size = { cols: 80, rows: 24 };

  follow(): () => void {
    return api.on('terminal.event', (event) => {
      const key = this.#keys.get(event.id);
      if (key !== undefined) this.#deliver(key, event);
      else if (this.#opening > 0) this.#early.set(event.id, [...(this.#early.get(event.id) ?? []), event]);
    });
  }

  screen(key: number): Screen | undefined {
    return this.#live.get(key)?.screen;
  }

  /** A shell on an inventory host, or a local one without a host; resolves with its tab's key once it runs or failed. */
  async open(host?: string): Promise<number> {
    const key = this.#nextKey++;
    const live: Live = { screen: new XtermScreen(this.#size) };
    this.#live.set(key, live);
    live.screen.onInput((data) => {
      const id = this.#runningId(key);
      if (id) this.#watch(key, api.invoke('terminal.write', { id, data }));
    });
    live.screen.onResize((size) => {
      this.#size = size;
      const id = this.#runningId(key);
      if (id) this.#watch(key, api.invoke('terminal.resize', { id, ...size }));
    });
    this.tabs = [...this.tabs, { key, title: host ?? 'local', status: { state: 'opening' }, ...(host && { host }) }];
    this.active = key;
    // The view mounts and fits the new screen first, so the shell starts at its real size.
    await tick();
    const size = { cols: live.screen.cols, rows: live.screen.rows };
    this.#opening++;
    let id: string;
    try {
      ({ id } = await api.invoke('terminal.open', { ...size, ...(host && { host }) }));
    } catch (error) {
      this.#settled();
      this.#update(key, { status: { state: 'failed', error } });
      return key;
    }
    const early = this.#early.get(id) ?? [];
    this.#settled();
    if (this.#live.get(key) !== live) {
      // The tab was closed while the connection was being made.
      void api.invoke('terminal.close', { id }).catch(() => {});
      return key;
    }
    live.id = id;
    // An ack that fails has nowhere to go: the shell is gone or the link is down, which the tab
    // or the connection banner already says.
    live.acks = new AckBatcher((chars) => void api.invoke('terminal.ack', { id, chars }).catch(() => {}));
    this.#keys.set(id, key);
    this.#update(key, { status: { state: 'open' } });
    for (const event of early) this.#deliver(key, event);
    const { cols, rows } = live.screen;
    if (cols !== size.cols || rows !== size.rows) this.#watch(key, api.invoke('terminal.resize', { id, cols, rows }));
    return key;
  }

  /** Closes the tab, hanging up its shell if it still runs. */
  close(key: number): void {
    const live = this.#live.get(key);
    if (!live) return;
    this.#live.delete(key);
    if (live.id && this.#keys.delete(live.id)) void api.invoke('terminal.close', { id: live.id }).catch(() => {});
    live.screen.dispose();
    const index = this.tabs.findIndex((t) => t.key === key);
    this.tabs = this.tabs.filter((t) => t.key !== key);
    if (this.active === key) this.active = (this.tabs[index] ?? this.tabs[index - 1])?.key;
  }

  #deliver(key: number, event: TerminalEvent): void {
    const live = this.#live.get(key);
    if (!live) return;
    if (event.type === 'data') {
      live.screen.write(event.data, () => live.acks?.drawn(event.data.length));
      return;
    }
    this.#keys.delete(event.id);
    const end = { code: event.code, signal: event.signal };
    live.screen.end(`[Shell ended: ${endLabel(end)}]`);
    this.#update(key, { status: { state: 'exited', ...end } });
  }

  /** The core's id of the tab's shell while it runs. */
  #runningId(key: number): string | undefined {
    const id = this.#live.get(key)?.id;
    return id && this.#keys.has(id) ? id : undefined;
  }

  // A refused keystroke shows in the tab until one goes through again (the link came back).
  #watch(key: number, request: Promise<unknown>): void {
    request.then(
      () => {
        if (this.tabs.some((t) => t.key === key && t.trouble)) this.#update(key, { trouble: undefined });
      },
      (trouble: unknown) => this.#update(key, { trouble }),
    );
  }

  #settled(): void {
    if (--this.#opening === 0) this.#early.clear();
  }

  #update(key: number, patch: Partial<TerminalTab>): void {
    this.tabs = this.tabs.map((t) => (t.key === key ? { ...t, ...patch } : t));
  }
}

export const terminalTabs = new TerminalTabs();
