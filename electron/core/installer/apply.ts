import { AppError, toWire } from '../../../shared/errors.ts';
import { command } from '../../../shared/shell.ts';
import { files, runChecked, timestamp, type Remote } from '../remote/host.ts';
import type { Change, CommandChange, FileChange, StepId } from './step.ts';

/** One line of the audit log: every change made to a host, made or failed or taken back. */
export interface AuditEntry {
  at: string;
  host: string;
  step: StepId;
  summary: string;
  command?: string;
  path?: string;
  diff?: string;
  backup?: string;
  result: 'ok' | 'failed' | 'skipped' | 'undone';
  error?: string;
}

export interface ApplyContext {
  remote: Remote;
  host: string;
  step: StepId;
  audit(entry: AuditEntry): void | Promise<void>;
  now(): number;
  /** util-linux has `findmnt --verify` (not CentOS 7's). */
  findmntVerify: boolean;
  signal?: AbortSignal;
}

type Undo = { summary: string; run(): Promise<string | undefined> };

/**
 * Makes a step's changes in order. Changes that can be taken back (a file, a mount) are, in
 * reverse order, when a later change of the step fails or when the caller's read-back finds the
 * step did not take (`undo`): a failed mount leaves the old /etc/fstab and no half of the mounts.
 *
 * No change stays without its line in the audit log: one whose record cannot be written is taken
 * back with the step's others, and the step stops saying so. Taking back goes on to the end even
 * when the log fails meanwhile; the error then says which records are missing.
 */
export async function applyChanges(ctx: ApplyContext, changes: readonly Change[]): Promise<{ undo(): Promise<void> }> {
  const undos: Undo[] = [];
  const undo = async (): Promise<string[]> => {
    const unrecorded: string[] = [];
    for (const u of undos.reverse()) {
      let entry: Omit<AuditEntry, 'at' | 'host' | 'step'>;
      try {
        const cmdline = await u.run();
        entry = { summary: `Undo: ${u.summary}`, ...(cmdline ? { command: cmdline } : {}), result: 'undone' };
      } catch (err) {
        entry = { summary: `Undo: ${u.summary}`, result: 'failed', error: toWire(err).message };
      }
      await record(ctx, entry).catch(() => unrecorded.push(`${entry.summary} (${entry.result})`));
    }
    undos.length = 0;
    return unrecorded;
  };
  const undoThenThrow = async (err: unknown): Promise<never> => {
    const unrecorded = await undo();
    if (!unrecorded.length) throw err;
    const e = toWire(err);
    throw new AppError(e.code, `${e.message} The audit log could not record either: ${unrecorded.join('; ')}.`, e.detail);
  };
  for (const change of changes) {
    if (ctx.signal?.aborted) await undoThenThrow(new AppError('CANCELLED', `${ctx.step}: cancelled before "${change.summary}".`));
    try {
      const done = change.kind === 'command' ? await runCommand(ctx, change) : await writeFile(ctx, change);
      if (done.undo) undos.push(done.undo);
      await record(ctx, done.entry).catch((err: unknown) => {
        throw new AppError('INTERNAL', `The audit log could not record "${change.summary}" on ${ctx.host} (${toWire(err).message}): the step's changes were taken back and the install stopped. Fix the data directory, then apply again.`);
      });
    } catch (err) {
      await undoThenThrow(err);
    }
  }
  return {
    undo: async () => {
      const unrecorded = await undo();
      if (unrecorded.length) throw new AppError('INTERNAL', `Taken back, but the audit log could not record: ${unrecorded.join('; ')}.`);
    },
  };
}

type Entry = Omit<AuditEntry, 'at' | 'host' | 'step'>;
/** A change made: the line it needs in the audit log, and how to take it back (if it can be). */
type Done = { entry: Entry; undo?: Undo | undefined };

async function record(ctx: ApplyContext, e: Entry): Promise<void> {
  await ctx.audit({ at: new Date(ctx.now()).toISOString(), host: ctx.host, step: ctx.step, ...e });
}

/** Records a change that failed, then throws its error (with the log's own, if that failed too). */
async function failed(ctx: ApplyContext, e: Entry, err: unknown): Promise<never> {
  await record(ctx, e).catch((auditErr: unknown) => {
    const w = toWire(err);
    throw new AppError(w.code, `${w.message} (The audit log could not record it: ${toWire(auditErr).message}.)`, w.detail);
  });
  throw err;
}

async function runCommand(ctx: ApplyContext, c: CommandChange): Promise<Done> {
  const cmdline = command(c.argv);
  const probe = c.onlyIf ?? c.unless;
  if (probe) {
    const { code } = await ctx.remote.run(probe, opts(ctx));
    if ((code === 0) !== (c.onlyIf !== undefined)) return { entry: { summary: c.summary, command: cmdline, result: 'skipped' } };
  }
  try {
    await runChecked(ctx.remote, c.argv, opts(ctx));
  } catch (err) {
    return failed(ctx, { summary: c.summary, command: cmdline, result: 'failed', error: toWire(err).message }, err);
  }
  const undoArgv = c.undo;
  return {
    entry: { summary: c.summary, command: cmdline, result: 'ok' },
    undo: undoArgv && { summary: c.summary, run: async () => (await runChecked(ctx.remote, undoArgv, opts(ctx)), command(undoArgv)) },
  };
}

const opts = (ctx: ApplyContext) => ({ timeoutMs: 30 * 60_000, ...(ctx.signal ? { signal: ctx.signal } : {}) });

async function current(ctx: ApplyContext, path: string): Promise<string | undefined> {
  const r = await ctx.remote.run(['cat', '--', path]);
  return r.code === 0 ? r.stdout : undefined;
}

/**
 * Writes a planned file: refused if the file changed since it was read (someone else is editing
 * it), backed up with a timestamp next to itself, /etc/fstab checked by findmnt before the rename.
 */
async function writeFile(ctx: ApplyContext, c: FileChange): Promise<Done> {
  const base = { summary: c.summary, path: c.path, diff: c.diff };
  let backup: string | undefined;
  try {
    if ((await current(ctx, c.path)) !== c.before) {
      throw new AppError('CONFLICT', `${c.path} changed since it was read; check the host again.`);
    }
    backup = c.before === undefined ? undefined : await files.backup(ctx.remote, c.path, timestamp(ctx.now()));
    await put(ctx, c, c.after, true);
  } catch (err) {
    return failed(ctx, { ...base, result: 'failed', error: toWire(err).message }, err);
  }
  const before = c.before;
  return {
    entry: { ...base, ...(backup ? { backup } : {}), result: 'ok' },
    undo: {
      summary: c.summary,
      run: async () => {
        if (before === undefined) await runChecked(ctx.remote, ['rm', '-f', '--', c.path]);
        else await put(ctx, c, before, false);
        return undefined;
      },
    },
  };
}

async function put(ctx: ApplyContext, c: FileChange, content: string, check: boolean): Promise<void> {
  await files.write(ctx.remote, c.path, content, {
    ...(c.mode && { mode: c.mode }),
    inPlace: c.inPlace,
    fstab: Boolean(c.fstab && check && ctx.findmntVerify),
  });
  // systemd generates mount units from /etc/fstab; without a reload it mounts from the old one
  if (c.fstab) await runChecked(ctx.remote, ['systemctl', 'daemon-reload']);
}
