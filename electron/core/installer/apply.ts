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
 */
export async function applyChanges(ctx: ApplyContext, changes: readonly Change[]): Promise<{ undo(): Promise<void> }> {
  const undos: Undo[] = [];
  const undo = async () => {
    for (const u of undos.reverse()) {
      try {
        const cmdline = await u.run();
        await record(ctx, { summary: `Undo: ${u.summary}`, ...(cmdline ? { command: cmdline } : {}), result: 'undone' });
      } catch (err) {
        await record(ctx, { summary: `Undo: ${u.summary}`, result: 'failed', error: toWire(err).message });
      }
    }
    undos.length = 0;
  };
  for (const change of changes) {
    if (ctx.signal?.aborted) {
      await undo();
      throw new AppError('CANCELLED', `${ctx.step}: cancelled before "${change.summary}".`);
    }
    try {
      const u = change.kind === 'command' ? await runCommand(ctx, change) : await writeFile(ctx, change);
      if (u) undos.push(u);
    } catch (err) {
      await undo();
      throw err;
    }
  }
  return { undo };
}

async function record(ctx: ApplyContext, e: Omit<AuditEntry, 'at' | 'host' | 'step'>): Promise<void> {
  await ctx.audit({ at: new Date(ctx.now()).toISOString(), host: ctx.host, step: ctx.step, ...e });
}

async function runCommand(ctx: ApplyContext, c: CommandChange): Promise<Undo | undefined> {
  const cmdline = command(c.argv);
  const probe = c.onlyIf ?? c.unless;
  if (probe) {
    const { code } = await ctx.remote.run(probe, opts(ctx));
    if ((code === 0) !== (c.onlyIf !== undefined)) {
      await record(ctx, { summary: c.summary, command: cmdline, result: 'skipped' });
      return undefined;
    }
  }
  try {
    await runChecked(ctx.remote, c.argv, opts(ctx));
  } catch (err) {
    await record(ctx, { summary: c.summary, command: cmdline, result: 'failed', error: toWire(err).message });
    throw err;
  }
  await record(ctx, { summary: c.summary, command: cmdline, result: 'ok' });
  const undoArgv = c.undo;
  return undoArgv && { summary: c.summary, run: async () => (await runChecked(ctx.remote, undoArgv, opts(ctx)), command(undoArgv)) };
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
async function writeFile(ctx: ApplyContext, c: FileChange): Promise<Undo> {
  const base = { summary: c.summary, path: c.path, diff: c.diff };
  try {
    if ((await current(ctx, c.path)) !== c.before) {
      throw new AppError('CONFLICT', `${c.path} changed since it was read; check the host again.`);
    }
    const backup = c.before === undefined ? undefined : await files.backup(ctx.remote, c.path, timestamp(ctx.now()));
    await put(ctx, c, c.after, true);
    await record(ctx, { ...base, ...(backup ? { backup } : {}), result: 'ok' });
  } catch (err) {
    await record(ctx, { ...base, result: 'failed', error: toWire(err).message });
    throw err;
  }
  const before = c.before;
  return {
    summary: c.summary,
    run: async () => {
      if (before === undefined) await runChecked(ctx.remote, ['rm', '-f', '--', c.path]);
      else await put(ctx, c, before, false);
      return undefined;
    },
  };
}

async function put(ctx: ApplyContext, c: FileChange, content: string, check: boolean): Promise<void> {
  if (c.inPlace) return files.writeInPlace(ctx.remote, c.path, content);
  const staged = await files.stage(ctx.remote, c.path, content, c.mode);
  if (c.fstab && check && ctx.findmntVerify) {
    const v = await ctx.remote.run(['findmnt', '--verify', '--tab-file', staged]);
    if (v.code !== 0) {
      await ctx.remote.run(['rm', '-f', '--', staged]);
      throw new AppError('INVALID_INPUT', `findmnt --verify rejects the new /etc/fstab: ${(v.stdout + v.stderr).trim()}`);
    }
  }
  await files.commit(ctx.remote, staged, c.path);
  // systemd generates mount units from /etc/fstab; without a reload it mounts from the old one
  if (c.fstab) await runChecked(ctx.remote, ['systemctl', 'daemon-reload']);
}
