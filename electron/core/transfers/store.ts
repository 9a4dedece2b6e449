import { access, appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTransferFinished, transferRecord, type PushRecord, type TransferRecord } from '../../../shared/transfers.ts';
import { readFileIfExists, withFileLock, writeFileAtomic } from '../util/files.ts';
import { isAlive } from '../util/pids.ts';
import { stagingDir } from './upload.ts';

/**
 * The transfer history, shared by every door: `transfers.jsonl` in the data directory, one line
 * per change of a record (the last line of an id wins), appended under the file lock so the
 * window and the CLI can both write. Each line carries the writing process's pid: a transfer
 * left running by a process that no longer exists was interrupted, and is shown as failed.
 * Logs go to `transfer-logs/<id>.log`, apart, so the history stays small to read.
 */
const KEEP = 500;

interface Line {
  pid: number;
  record: TransferRecord;
}

export class TransferStore {
  readonly file: string;
  readonly logDir: string;
  #lines = 0;

  constructor(home: string, private readonly pid = process.pid) {
    this.file = join(home, 'transfers.jsonl');
    this.logDir = join(home, 'transfer-logs');
  }

  async put(record: TransferRecord): Promise<void> {
    const line = `${JSON.stringify({ pid: this.pid, record } satisfies Line)}\n`;
    await withFileLock(this.file, async () => {
      await appendFile(this.file, line, { mode: 0o600 });
      if (++this.#lines % 200 === 0) await this.#compact();
    });
  }

  /** Every known transfer, newest first; interrupted ones as failed. */
  async list(): Promise<TransferRecord[]> {
    return [...(await this.#read()).values()].map(settleInterrupted).sort((a, b) => b.queuedAt - a.queuedAt);
  }

  /** Pushes left unfinished by a process that no longer runs, as it last wrote them: what reconcile checks against the nodes. */
  async orphans(): Promise<PushRecord[]> {
    return [...(await this.#read()).values()].filter((l) => !isTransferFinished(l.record.state) && !isAlive(l.pid)).flatMap((l) => (l.record.operation === 'push' ? [l.record] : []));
  }

  async get(id: string): Promise<TransferRecord | undefined> {
    const line = (await this.#read()).get(id);
    return line && settleInterrupted(line);
  }

  async log(id: string, line: string, at = Date.now()): Promise<void> {
    await mkdir(this.logDir, { recursive: true, mode: 0o700 });
    await appendFile(join(this.logDir, `${id}.log`), `${new Date(at).toISOString()} ${line}\n`, { mode: 0o600 });
  }

  /**
   * Asks the process running a transfer to cancel it: the window, the browser mode and each CLI
   * run their own transfers, and `icbd cancel` must reach any of them.
   */
  async requestCancel(id: string): Promise<void> {
    await mkdir(this.#cancelDir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.#cancelDir, id), '', { mode: 0o600 });
  }

  /** Whether a cancel was asked for `id`; the request is consumed. */
  async takeCancelRequest(id: string): Promise<boolean> {
    const file = join(this.#cancelDir, id);
    if (!(await access(file).then(() => true, () => false))) return false;
    await rm(file, { force: true });
    return true;
  }

  get #cancelDir(): string {
    return join(this.logDir, 'cancel');
  }

  /** Whether the process that last wrote `id` is still running (so it can act on a cancel request). */
  async ownerAlive(id: string): Promise<boolean> {
    const line = (await this.#read()).get(id);
    return line !== undefined && !isTransferFinished(line.record.state) && isAlive(line.pid);
  }

  async readLog(id: string): Promise<string[]> {
    const text = await readFile(join(this.logDir, `${id}.log`), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean);
  }

  async #read(): Promise<Map<string, Line>> {
    const byId = new Map<string, Line>();
    for (const text of ((await readFileIfExists(this.file)) ?? '').split('\n')) {
      if (!text) continue;
      try {
        const raw = JSON.parse(text) as Line;
        const record = transferRecord.safeParse(raw.record);
        // A line cut short by a crash, or from a future version, is skipped, not fatal. Lines
        // written before uploads existed have no operation and are read as pushes.
        if (record.success && Number.isInteger(raw.pid)) byId.set(record.data.id, { pid: raw.pid, record: record.data });
      } catch {
        continue;
      }
    }
    return byId;
  }

  async #compact(): Promise<void> {
    const kept = [...(await this.#read()).values()].sort((a, b) => a.record.queuedAt - b.record.queuedAt).slice(-KEEP);
    await writeFileAtomic(this.file, kept.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }
}


function settleInterrupted({ pid, record }: Line): TransferRecord {
  if (isTransferFinished(record.state) || isAlive(pid)) return record;
  const left =
    record.operation === 'push'
      ? `What arrived of ${record.image}@${record.number} on ${record.targets.map((t) => t.node).join(', ')} is checked by the next console that starts (it then says whether the push completed or can be resumed).`
      : `A partial upload may remain in ${stagingDir(record.dir, record.id)} on ${record.targets.map((t) => t.node).join(', ')}: remove that directory, then upload again.`;
  return {
    ...record,
    state: 'failed',
    rate: null,
    etaSeconds: null,
    error: { code: 'UNAVAILABLE', message: `Interrupted: the process that ran this transfer (pid ${pid}) stopped. ${left}` },
  };
}
