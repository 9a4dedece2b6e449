import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { fake } from './fake-api.ts';
import type { Screen } from './terminal/xterm-screen.ts';
import { endLabel, terminalTabs } from './terminals.svelte.ts';

vi.mock('./api.ts', async () => (await import('./fake-api.ts')).apiModule);

// xterm needs a real layout engine; the store is tested against a screen that records.
const screens: FakeScreen[] = [];
class FakeScreen implements Screen {
  cols = 120;
  rows = 30;
  drawn: string[] = [];
  ended?: string;
  disposed = false;
  input: (data: string) => void = () => {};
  resized: (size: { cols: number; rows: number }) => void = () => {};
  constructor() {
    screens.push(this);
  }
  write(data: string, drawn: () => void) {
    this.drawn.push(data);
    drawn();
  }
  onInput(fn: (data: string) => void) {
    this.input = fn;
  }
  onResize(fn: (size: { cols: number; rows: number }) => void) {
    this.resized = fn;
  }
  mount() {
    return () => {};
  }
  focus() {}
  copySelection() {}
  end(note: string) {
    this.ended = note;
  }
  dispose() {
    this.disposed = true;
  }
}
vi.mock('./terminal/xterm-screen.ts', () => ({
  XtermScreen: function XtermScreen() {
    return new FakeScreen();
  },
}));

const calls = (name: string) => fake.api.invoke.mock.calls.filter(([n]) => n === name).map(([, input]) => input);
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

let unfollow: () => void;
let opened = 0;

beforeEach(() => {
  fake.reset();
  screens.length = 0;
  for (const tab of terminalTabs.tabs) terminalTabs.close(tab.key);
  fake.answer('terminal.open', () => ({ id: `term-${++opened}`, title: 'x' }));
  for (const name of ['terminal.write', 'terminal.resize', 'terminal.ack', 'terminal.close'] as const) fake.answer(name, () => ({}));
  unfollow = terminalTabs.follow();
});
afterEach(() => unfollow());

describe('terminal tabs', () => {
  it('opens a shell at the size of its screen, on a host or locally', async () => {
    await terminalTabs.open('cache01');
    await terminalTabs.open();
    expect(calls('terminal.open')).toEqual([
      { host: 'cache01', cols: 120, rows: 30 },
      { cols: 120, rows: 30 },
    ]);
    expect(terminalTabs.tabs.map((t) => [t.title, t.status.state])).toEqual([
      ['cache01', 'open'],
      ['local', 'open'],
    ]);
    expect(terminalTabs.active).toBe(terminalTabs.tabs[1]!.key);
  });

  it('draws output in order, even output that overtook the reply of terminal.open, and acknowledges every character once', async () => {
    let reply!: () => void;
    fake.answer('terminal.open', () => new Promise((resolve) => (reply = () => resolve({ id: 'term-early', title: 'local' }))));
    const opening = terminalTabs.open();
    await vi.waitFor(() => expect(reply).toBeDefined());
    fake.emit('terminal.event', { id: 'term-early', type: 'data', data: 'Welcome\r\n' });
    fake.emit('terminal.event', { id: 'term-other-window', type: 'data', data: 'not ours' });
    reply();
    await opening;
    fake.emit('terminal.event', { id: 'term-early', type: 'data', data: 'root@cache01:~# ' });
    expect(screens[0]!.drawn).toEqual(['Welcome\r\n', 'root@cache01:~# ']);
    await nextTask();
    expect(calls('terminal.ack')).toEqual([{ id: 'term-early', chars: 'Welcome\r\n'.length + 'root@cache01:~# '.length }]);
  });

  it('sends keystrokes and sizes of a running shell, and shows a refused keystroke in its tab', async () => {
    const key = await terminalTabs.open('imgs');
    const id = `term-${opened}`;
    screens[0]!.input('ls\r');
    screens[0]!.resized({ cols: 90, rows: 20 });
    expect(calls('terminal.write')).toEqual([{ id, data: 'ls\r' }]);
    expect(calls('terminal.resize')).toEqual([{ id, cols: 90, rows: 20 }]);

    fake.answer('terminal.write', () => {
      throw new AppError('UNAVAILABLE', 'Lost the connection to icbd serve; is it still running?');
    });
    screens[0]!.input('x');
    await vi.waitFor(() => expect(terminalTabs.tabs.find((t) => t.key === key)?.trouble).toBeInstanceOf(AppError));
  });

  it('marks the tab when the shell ends, with how it ended, and sends nothing more', async () => {
    await terminalTabs.open();
    const id = `term-${opened}`;
    fake.emit('terminal.event', { id, type: 'exit', code: 0, signal: null });
    expect(terminalTabs.tabs[0]!.status).toEqual({ state: 'exited', code: 0, signal: null });
    expect(screens[0]!.ended).toBe('[Shell ended: exit 0]');
    screens[0]!.input('more');
    expect(calls('terminal.write')).toEqual([]);
  });

  it('closes a tab: hangs up its shell, drops its screen and shows a neighbour', async () => {
    const first = await terminalTabs.open('imgs');
    const second = await terminalTabs.open('cache01');
    terminalTabs.active = first;
    terminalTabs.close(first);
    expect(calls('terminal.close')).toEqual([{ id: `term-${opened - 1}` }]);
    expect(screens[0]!.disposed).toBe(true);
    expect(terminalTabs.tabs.map((t) => t.key)).toEqual([second]);
    expect(terminalTabs.active).toBe(second);
  });

  it('keeps a failed connection in its tab with the core’s words', async () => {
    fake.answer('terminal.open', () => {
      throw new AppError('UNAUTHORIZED', 'The host key of imgs (10.0.0.10:22) has CHANGED: …');
    });
    await terminalTabs.open('imgs');
    const status = terminalTabs.tabs[0]!.status;
    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && (status.error as Error).message).toContain('has CHANGED');
  });
});

describe('endLabel', () => {
  it('words an exit code, a signal by name (ssh2) or by number (node-pty), or a dropped connection', () => {
    expect(endLabel({ code: 127, signal: null })).toBe('exit 127');
    expect(endLabel({ code: null, signal: 'HUP' })).toBe('SIGHUP');
    expect(endLabel({ code: null, signal: 'SIGKILL' })).toBe('SIGKILL');
    expect(endLabel({ code: null, signal: '1' })).toBe('signal 1');
    expect(endLabel({ code: null, signal: null })).toBe('closed');
  });
});
