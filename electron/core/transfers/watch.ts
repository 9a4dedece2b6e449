import { EXIT_MARKER, lastText } from '../replication/commands.ts';

/**
 * Reads the stderr of a transfer's commands: the sender's byte counts (bare numbers, one a second,
 * replication/pipeline.ts sendStage), the stages' exit markers, and everything else as log lines. Nothing
 * here is per chunk for the UI: bytes are handed on at the meter's pace.
 */
export class StreamWatch {
  readonly #status = new Map<string, number>();
  readonly #partial = new Map<string, string>();
  readonly #tail: string[] = [];
  #last: number | undefined;
  #shown = 0;

  constructor(
    private readonly onBytes: (bytes: number) => void,
    private readonly onLog: (line: string) => void,
  ) {}

  /** A stderr listener for commands running on `host`. */
  listener(host: string): (chunk: Buffer) => void {
    return (chunk) => {
      const text = (this.#partial.get(host) ?? '') + chunk.toString('utf8');
      const lines = text.split(/\r?\n|\r/);
      this.#partial.set(host, lines.pop() ?? '');
      for (const line of lines) this.#line(host, line);
    };
  }

  #line(host: string, line: string): void {
    if (/^\d+$/.test(line)) {
      // The sender's final count is exact; one read while it ran may count a little ahead (a
      // small stream of an older btrfs-progs, twice): progress never goes back, the last one is kept.
      this.#last = Number(line);
      this.#shown = Math.max(this.#shown, this.#last);
      return this.onBytes(this.#shown);
    }
    const m = line.match(EXIT_MARKER);
    if (m?.[1] && m[2]) return void this.#status.set(m[1], Number(m[2]));
    if (!line.trim()) return;
    this.#tail.push(line);
    if (this.#tail.length > 20) this.#tail.shift();
    this.onLog(`${host}: ${line}`);
  }

  /**
   * Why the stream failed for the whole group (undefined: it did not), and per receiver why its
   * copy is not to be trusted. Exit 141 (SIGPIPE) is a consequence of another stage's failure,
   * so a real failure is named first.
   */
  outcome(shared: readonly string[], perTarget: Readonly<Record<string, readonly string[]>>): { shared?: string; targets: Record<string, string | undefined> } {
    const why = (names: readonly string[]) => {
      const bad = names.filter((n) => this.#status.get(n) !== 0);
      const code = (n: string) => this.#status.get(n);
      const root = bad.find((n) => code(n) !== undefined && code(n) !== 141) ?? bad.find((n) => code(n) === undefined) ?? bad[0];
      if (root === undefined) return undefined;
      const status = code(root);
      const text = status === undefined ? `${describe(root)} did not report an exit status (it was killed or never ran)` : `${describe(root)} failed (exit ${status})`;
      return { text, sigpipe: status === 141 };
    };
    const sharedWhy = why(shared);
    const targets: Record<string, string | undefined> = {};
    for (const [node, names] of Object.entries(perTarget)) {
      const own = why(names);
      targets[node] = (own && !own.sigpipe ? own : (sharedWhy ?? own))?.text;
    }
    return { ...(sharedWhy ? { shared: sharedWhy.text } : {}), targets };
  }

  /** The sender's last count: once it ended, the stream's exact length. */
  get bytes(): number | undefined {
    return this.#last;
  }

  /** A marker's exit status; undefined when it was never reported. */
  status(marker: string): number | undefined {
    return this.#status.get(marker);
  }

  /** The last lines of output that were not progress or markers: what an error message quotes. */
  tail(): string {
    return lastText(this.#tail.join('\n'));
  }
}

const STAGES: Record<string, string> = {
  send: 'btrfs send',
  compress: 'the compressor',
  tee: 'tee',
  pace: 'the rate limit (dd)',
  free: 'the check that the snapshot is not there yet on',
  skip: 'leaving out what the receivers hold (tail)',
  stage: 'staging the stream (tee) on',
  replay: 'replaying the staged stream on',
  leg: 'the connection to',
  listen: 'socat (listening) on',
  auth: 'the check of the transfer\'s secret on',
  decompress: 'the decompressor on',
  receive: 'btrfs receive on',
};

function describe(marker: string): string {
  const [name = marker, node] = marker.split('@');
  return node ? `${STAGES[name] ?? name} ${node}` : (STAGES[name] ?? name);
}
