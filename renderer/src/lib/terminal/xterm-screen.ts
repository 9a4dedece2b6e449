import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { terminalShortcut } from './shortcuts.ts';
import { openUnderStrictCsp } from './xterm-csp.ts';
import { followColorScheme, terminalFont, terminalTheme } from './xterm-theme.ts';

/** What a terminal session needs from its screen; specs stand in a fake (xterm cannot run in jsdom). */
export interface Screen {
  readonly cols: number;
  readonly rows: number;
  /** `drawn` runs once xterm has processed the chunk: the moment to acknowledge it. */
  write(data: string, drawn: () => void): void;
  onInput(fn: (data: string) => void): void;
  onResize(fn: (size: { cols: number; rows: number }) => void): void;
  /** Shows the screen inside `parent`, sized to it, until the returned function is called. */
  mount(parent: HTMLElement): () => void;
  focus(): void;
  /** Copies the selection, if any, to the clipboard. */
  copySelection(): void;
  /** The program ended: a last dim line, and no more input. */
  end(note: string): void;
  dispose(): void;
}

/**
 * An xterm with its fit addon, in a <div> of its own that moves between mounts: switching views
 * unmounts the terminal view, and re-creating the xterm would lose the scrollback and the screen.
 */
export class XtermScreen implements Screen {
  readonly #term: Terminal;
  readonly #fit = new FitAddon();
  readonly #box = document.createElement('div');
  readonly #unfollow: () => void;
  #opened = false;

  constructor(size: { cols: number; rows: number }) {
    this.#box.className = 'xterm-box';
    this.#term = new Terminal({
      ...size,
      theme: terminalTheme(),
      fontFamily: terminalFont(),
      fontSize: 13,
      scrollback: 5000,
    });
    this.#term.loadAddon(this.#fit);
    // The view's own keys bubble to it instead of reaching the shell.
    this.#term.attachCustomKeyEventHandler((event) => terminalShortcut(event) === undefined);
    this.#unfollow = followColorScheme(() => (this.#term.options.theme = terminalTheme()));
  }

  get cols(): number {
    return this.#term.cols;
  }

  get rows(): number {
    return this.#term.rows;
  }

  write(data: string, drawn: () => void): void {
    this.#term.write(data, drawn);
  }

  onInput(fn: (data: string) => void): void {
    this.#term.onData(fn);
  }

  onResize(fn: (size: { cols: number; rows: number }) => void): void {
    this.#term.onResize(({ cols, rows }) => fn({ cols, rows }));
  }

  mount(parent: HTMLElement): () => void {
    parent.append(this.#box);
    if (!this.#opened) {
      openUnderStrictCsp(this.#term, this.#box);
      this.#opened = true;
    }
    let frame = 0;
    const fit = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => this.#fit.fit());
    };
    const observer = new ResizeObserver(fit);
    observer.observe(parent);
    this.#fit.fit();
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
      this.#box.remove();
    };
  }

  focus(): void {
    this.#term.focus();
  }

  copySelection(): void {
    if (!this.#term.hasSelection()) return;
    // A copy command (not navigator.clipboard, which Electron's door denies) makes xterm's own copy
    // handler put the selection on the clipboard, as the Edit menu's Copy does.
    this.#term.focus();
    document.execCommand('copy');
  }

  end(note: string): void {
    // Dim, then hide the cursor: nothing will be typed here any more.
    this.#term.write(`\r\n\x1b[2m${note}\x1b[22m\x1b[?25l`);
    this.#term.options.disableStdin = true;
  }

  dispose(): void {
    this.#unfollow();
    this.#term.dispose();
    this.#box.remove();
  }
}
