import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import type { TerminalEvent } from '../../../shared/ssh.ts';
import type { AuditLog } from '../audit/log.ts';
import { openLocalShell } from './local-shell.ts';
import type { TerminalSession } from './session.ts';

/**
 * The open terminals of the app, by id, so the doors can address them with plain data
 * (terminal.write {id, data}) and forward every session's output as events.
 */
export class Terminals {
  readonly #sessions = new Map<string, TerminalSession>();

  constructor(
    /** A shell on a host (SshPool.shell): terminal/ never imports ssh/, which builds on it. */
    private readonly openShell: (host: string, size: { cols: number; rows: number }) => Promise<TerminalSession>,
    private readonly emit: (e: TerminalEvent) => void,
    private readonly o: { audit: Pick<AuditLog, 'append'>; hosts(): Promise<Host[]> },
  ) {}

  /**
   * A shell on a host, in the audit log when it opens and when it ends (who, where, how long; never
   * what was typed). One that cannot be recorded is not opened: it would be root on a node unseen.
   */
  async openSsh(host: string, size: { cols: number; rows: number }): Promise<{ id: string; title: string }> {
    const user = (await this.o.hosts()).find((h) => h.name === host)?.user;
    const record = (action: string, extra: { ms?: number; exitCode?: number; detail?: string } = {}) => this.o.audit.append({ host, action, ...(user && { user }), result: 'ok', ...extra });
    const session = await this.openShell(host, size);
    const opened = Date.now();
    try {
      await record('terminal.open');
    } catch (err) {
      session.close();
      throw new AppError('INTERNAL', `No terminal was opened on ${host}: the audit log could not record it (${(err as Error).message}).`);
    }
    session.onExit((exit) => {
      // The session is over whatever happens here; a failed record is said where the operator looks.
      record('terminal.close', { ms: Date.now() - opened, ...(exit.code !== null && { exitCode: exit.code }), ...(exit.signal && { detail: `killed by ${exit.signal}` }) }).catch((err: unknown) =>
        this.emit({ id: session.id, type: 'data', data: `\r\n[icbd: the end of this session could not be written to the audit log: ${(err as Error).message}]\r\n` }),
      );
    });
    return this.#add(session);
  }

  openLocal(size: { cols: number; rows: number }): { id: string; title: string } {
    return this.#add(openLocalShell(size));
  }

  write(id: string, data: string): void {
    this.#get(id).write(data);
  }

  resize(id: string, cols: number, rows: number): void {
    this.#get(id).resize(cols, rows);
  }

  ack(id: string, chars: number): void {
    this.#sessions.get(id)?.ack(chars);
  }

  close(id: string): void {
    this.#sessions.get(id)?.close();
  }

  list(): { id: string; kind: 'ssh' | 'local'; title: string }[] {
    return [...this.#sessions.values()].map((s) => ({ id: s.id, kind: s.kind, title: s.title }));
  }

  closeAll(): void {
    for (const s of this.#sessions.values()) s.close();
  }

  #add(s: TerminalSession): { id: string; title: string } {
    this.#sessions.set(s.id, s);
    s.onData((data) => this.emit({ id: s.id, type: 'data', data }));
    s.onExit((exit) => {
      this.#sessions.delete(s.id);
      this.emit({ id: s.id, type: 'exit', ...exit });
    });
    return { id: s.id, title: s.title };
  }

  #get(id: string): TerminalSession {
    const s = this.#sessions.get(id);
    if (!s) throw new AppError('NOT_FOUND', 'This terminal is closed; open a new one.');
    return s;
  }
}
