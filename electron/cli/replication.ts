import { AppError } from '../../shared/errors.ts';
import { codecLabel } from '../../shared/compression.ts';
import { cellsOf, keysOffer, rowSize, rowsOf, type PruneReport, type RowSize, type SettingsPatch } from '../../shared/replication.ts';
import type { PushPlan, SyncPlan, TransferRecord } from '../../shared/transfers.ts';
import { isTransferFinished, transferSubject } from '../../shared/transfers.ts';
import { DEFAULT_RESUME_WAIT_MINUTES, DEFAULT_STALL_SECONDS, describeRetention, type RepoSettings } from '../../shared/snapshots.ts';
import { formatAge, formatBytes, formatDuration, formatPercent, formatRate, parseRate } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { printJson, printJsonLine, table } from './output.ts';
import { follow } from './progress.ts';

const CELL: Record<string, string> = { present: 'yes', missing: '-', diverged: 'DIVERGED', transferring: 'in transfer' };
/** A stream's size is said to be one: it is not the snapshot's. */
const sizeText = (s: RowSize) => (s.sent ? `${s.text} sent` : s.text);

/** Without HOST the tree (a column per node); with HOST that node's snapshots, or its raw subvolume list. */
export async function snapshotsCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.snapshots);
  const [node] = positionals;
  if (values.subvolumes) {
    if (!node) throw usageError('Name the host whose subvolumes to list.', COMMANDS.snapshots);
    const list = await core.call('replication.subvolumes', { node });
    if (values.json) printJson(list);
    else if (!list.mount) console.log(`${node} has no btrfs filesystem at the repository's usual places.`);
    else console.log(table(['ID', 'PATH', 'RO', 'UUID', 'RECEIVED UUID'], list.subvolumes.map((s) => [s.id, s.path, s.readOnly ? 'ro' : '', s.uuid ?? undefined, s.receivedUuid ?? undefined])));
    return 0;
  }
  if (node) {
    const [repo] = await core.call('replication.repos', { nodes: [node] });
    const images = repo!.images.filter((i) => !values.image || i.name === values.image);
    if (values.json) printJson({ ...repo, images });
    else if (!repo!.exists) console.log(`${node} has no repository at ${repo!.root}.`);
    else
      console.log(
        table(
          ['IMAGE', 'SNAPSHOT', 'UUID', 'RECEIVED UUID', 'RO', 'SIZE', 'CREATED'],
          images.flatMap((i) => i.snapshots.map((s) => [i.name, s.number, s.uuid, s.receivedUuid ?? undefined, s.readOnly ? 'ro' : 'WRITABLE', formatBytes(s.referencedBytes), formatAge(s.createdAt)])),
        ),
      );
    for (const p of repo!.problems) console.error(`note: ${p}`);
    return 0;
  }
  const tree = await core.call('replication.tree', {});
  const images = tree.images.filter((i) => !values.image || i.name === values.image);
  const nodes = tree.nodes.map((n) => n.name);
  // Readable objects here: the wire's one-letter cells are for the window's 10 000 rows.
  if (values.json) return (printJson({ ...tree, images: images.map((i) => ({ ...i, rows: rowsOf(i).map((r) => ({ ...r, cells: cellsOf(r, nodes) })) })) }), 0);
  console.log(
    table(
      ['IMAGE', 'SNAPSHOT', ...nodes.map((n) => n.toUpperCase()), 'SIZE', 'AGE', 'PARENT'],
      images.flatMap((i) =>
        rowsOf(i).map((r) => [i.name, r.number, ...cellsOf(r, nodes).map((c) => CELL[c.state]), sizeText(rowSize(r, tree.source)), formatAge(r.createdAt), r.parent ?? undefined]),
      ),
    ),
  );
  for (const n of tree.nodes) for (const p of n.problems) console.error(`note: ${p}`);
  for (const i of images) for (const r of rowsOf(i)) for (const [node, note] of Object.entries(r.notes ?? {})) if (note.reason) console.error(`${i.name}@${r.number} on ${node}: ${note.reason}`);
  return 0;
}

const SNAPSHOT = COMMANDS.snapshot.subcommands;

export async function snapshotCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'create') {
    const { values, positionals } = parse(rest, SNAPSHOT.create);
    if (positionals.length !== 1) throw usageError('Name one image.', SNAPSHOT.create);
    const snap = await core.call('replication.snapshot', { image: positionals[0]!, ...(values.on ? { node: values.on } : {}) });
    if (values.json) printJson(snap);
    else console.log(`Created ${snap.image}@${snap.number} (${snap.path}, uuid ${snap.uuid}).`);
    return 0;
  }
  if (sub === 'delete') {
    const { values, positionals } = parse(rest, SNAPSHOT.delete);
    if (positionals.length !== 1) throw usageError('Name one snapshot.', SNAPSHOT.delete);
    const ref = parseRef(positionals[0]!, SNAPSHOT.delete);
    if (ref.number === undefined) throw usageError('Name the snapshot number: HOST:IMAGE@N.', SNAPSHOT.delete);
    const r = await core.call('replication.deleteSnapshot', { node: ref.host, image: ref.image, number: ref.number, force: values.force ?? false });
    if (values.json) printJson(r);
    else console.log(`Deleted ${r.deleted}.`);
    return 0;
  }
  if (sub === 'retire') {
    const { values, positionals } = parse(rest, SNAPSHOT.retire);
    if (positionals.length !== 2) throw usageError('Name the host and the image.', SNAPSHOT.retire);
    const r = await core.call('replication.retireImage', { node: positionals[0]!, image: positionals[1]!, force: values.force ?? false });
    if (values.json) printJson(r);
    else console.log(`Retired ${r.retired}.${r.overridden.length ? ` Forced past: ${r.overridden.join(' ')}` : ''}`);
    return 0;
  }
  if (sub === 'info') {
    const { values, positionals } = parse(rest, SNAPSHOT.info);
    const m = positionals.length === 1 ? /^(.+)@(\d+)$/.exec(positionals[0]!) : null;
    if (!m) throw usageError('Name one snapshot as IMAGE@N.', SNAPSHOT.info);
    const ref = { image: m[1]!, number: Number(m[2]) };
    const info = await core.call('replication.snapshotInfo', ref);
    const du = values.du ? await core.call('replication.measure', { node: values.du, ...ref }) : undefined;
    if (values.json) return (printJson({ ...info, ...(du ? { du } : {}) }), 0);
    console.log(
      table(
        ['NODE', 'COPY', 'FOLLOWS', 'RETENTION', 'WHERE IT CAME FROM'],
        info.copies.map((c) => [c.node, CELL[c.state], c.snapshot ? (c.parent ?? (c.node === info.source ? '-' : 'full')) : undefined, c.retention ? (c.retention.keep ? 'kept' : 'PRUNE') : undefined, c.lineage]),
      ),
    );
    for (const c of info.copies) if (c.retention) console.log(`${c.node} (${c.retention.policy}): ${c.retention.why.join('; ')}`);
    if (du) console.log(`${du.node} ${du.path}: ${formatBytes(du.totalBytes)} referenced, ${formatBytes(du.exclusiveBytes)} exclusive (about what deleting it frees), ${formatBytes(du.sharedBytes)} shared (btrfs filesystem du)`);
    return 0;
  }
  const { values, positionals } = parse(rest, SNAPSHOT['add-image']);
  if (positionals.length !== 2) throw usageError('Name the host and the image.', SNAPSHOT['add-image']);
  const repo = await core.call('replication.addImage', { node: positionals[0]!, image: positionals[1]! });
  if (values.json) printJson(repo);
  else console.log(`${positionals[1]} is in ${positionals[0]}'s repository (${repo.root}).`);
  return 0;
}

/** HOST:IMAGE[@N]; the names themselves are checked by the core, with its messages. */
function parseRef(ref: string, spec: { readonly usage: string }): { host: string; image: string; number?: number } {
  const m = /^([^:]+):(.+?)(?:@([^@]*))?$/.exec(ref);
  if (!m) throw usageError(`Write the snapshot as HOST:IMAGE@N (got ${JSON.stringify(ref)}).`, spec);
  if (m[3] !== undefined && !/^\d+$/.test(m[3])) throw new AppError('INVALID_INPUT', `The snapshot number after @ is a whole number (got ${JSON.stringify(m[3])}).`);
  return { host: m[1]!, image: m[2]!, ...(m[3] !== undefined ? { number: Number(m[3]) } : {}) };
}

/** --setup-keys: the receivers the plans say the source cannot ssh to get their keys first (audited, then checked again). */
async function setUpKeys(core: Core, plans: readonly PushPlan[], human: boolean): Promise<void> {
  const offer = keysOffer(plans);
  if (!offer) return;
  const results = await core.call('replication.setupKeys', { from: offer.from, to: offer.to });
  if (human) for (const r of results) console.log(`${r.ok ? 'keys set up' : 'keys NOT set up'}: ${r.detail}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new AppError('REMOTE_FAILED', failed.map((r) => r.detail).join('\n'));
}

/** The core refuses a direct push or sync to nodes the source cannot log in to: say which option fixes it. */
function offerSetupKeys(err: unknown): never {
  const offer = err instanceof AppError && err.code === 'CONFLICT' && (err.detail as { setupKeys?: unknown } | undefined)?.setupKeys;
  throw offer ? new AppError('CONFLICT', `${(err as AppError).message}\nOr run again with --setup-keys.`, (err as AppError).detail) : err;
}

/** --relay, --tcp, --compress and --limit-rate as the request's mode, compression and cap; the core checks the codec's name and the cap's range. */
export function sending(values: { relay?: boolean | undefined; tcp?: boolean | undefined; compress?: string | undefined; 'limit-rate'?: string | undefined }) {
  if (values.relay && values.tcp) throw new AppError('INVALID_INPUT', 'Choose --relay or --tcp, not both.');
  return {
    mode: values.relay ? ('relay' as const) : values.tcp ? ('tcp' as const) : ('direct' as const),
    ...(values.compress ? { compression: values.compress as 'auto' } : {}),
    ...limitRate(values['limit-rate']),
  };
}

/** --limit-rate 20M as the request's limitRate (bytes per second). */
export function limitRate(text: string | undefined): { limitRate?: number } {
  if (text === undefined) return {};
  const rate = parseRate(text);
  if (!Number.isFinite(rate)) throw new AppError('INVALID_INPUT', `--limit-rate is bytes per second, like 20M (20 MiB/s) or 512K (got ${JSON.stringify(text)}).`);
  return { limitRate: rate };
}

function wholeNumber(option: string, text: string, of: string): number {
  if (!/^\d+$/.test(text)) throw new AppError('INVALID_INPUT', `${option} is a whole number of ${of} (got ${JSON.stringify(text)}).`);
  return Number(text);
}

/** Follows the started transfers to their end; the exit code says whether every one is done. */
async function followToEnd(core: Core, plan: PushPlan | SyncPlan, transfers: readonly TransferRecord[], json: boolean): Promise<number> {
  const end = await follow(core, transfers, !json);
  if (json) printJson({ plan, transfers: end });
  return end.every((t) => t.state === 'done') ? 0 : 1;
}

export async function pushCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.push);
  if (positionals.length !== 1 || !values.to) throw usageError('Name one snapshot and its receivers.', COMMANDS.push);
  const how = sending(values);
  const ref = parseRef(positionals[0]!, COMMANDS.push);
  const input = {
    source: ref.host,
    targets: values.to.split(',').filter(Boolean),
    image: ref.image,
    ...(ref.number !== undefined ? { number: ref.number } : {}),
    ...how,
  };
  if (values['dry-run'] || values['setup-keys']) {
    const plan = await core.call('replication.planPush', input);
    if (values['dry-run']) {
      if (values.json) printJson(plan);
      else printPushPlan(plan);
      return 0;
    }
    await setUpKeys(core, [plan], !values.json);
  }
  const { plan, transfers } = await core.call('replication.push', input).catch(offerSetupKeys);
  if (!values.json) printPushPlan(plan);
  return followToEnd(core, plan, transfers, values.json ?? false);
}

/** Every carried image's newest snapshot to every cache lacking it; the plan is printed before anything runs. */
export async function syncCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.sync);
  const input = { ...(positionals.length ? { targets: positionals } : {}), ...sending(values) };
  const plan = await core.call('replication.planSync', input);
  if (!values.json) printSyncPlan(plan);
  const needsKeys = keysOffer(plan.pushes) !== undefined;
  // Nothing to send only because keys are missing is not "up to date": the core's refusal says so.
  if (values['dry-run'] || (plan.upToDate && !needsKeys)) {
    if (values.json) printJson(plan);
    return 0;
  }
  if (values['setup-keys']) await setUpKeys(core, plan.pushes, !values.json);
  const started = await core.call('replication.sync', input).catch(offerSetupKeys);
  // The core planned again: after setting up keys that plan is not the one printed above.
  if (needsKeys && !values.json) printSyncPlan(started.plan);
  return followToEnd(core, started.plan, started.transfers, values.json ?? false);
}

function printPushPlan(plan: PushPlan): void {
  console.log(`${plan.image}@${plan.number} from ${plan.source}, ${plan.mode}${plan.encrypted ? '' : ' (UNENCRYPTED: tcp)'}`);
  for (const g of plan.groups)
    console.log(`  ${g.kind}${g.parent ? ` from parent ${g.parent.number}` : ''} → ${g.targets.join(', ')}: ${codecLabel(g.codec, g.codecLevel)}, about ${formatBytes(g.estimatedBytes)}${g.rateLimit ? `, at most ${formatRate(g.rateLimit)}` : ''}${g.codecReason ? `\n    compression ${g.codecReason}` : ''}${g.codecNote ? `\n    note: ${g.codecNote}` : ''}${g.staging ? `\n    staging: ${g.staging}` : ''}`);
  for (const s of plan.skipped) console.log(`  skipped ${s.node}: ${s.reason}`);
  if (plan.setupKeys) console.log(`  keys missing: ${plan.setupKeys.from} cannot ssh to ${plan.setupKeys.to.join(', ')}; --setup-keys sets them up`);
  for (const w of plan.warnings) console.log(`  warning: ${w}`);
}

function printSyncPlan(plan: SyncPlan): void {
  // A push with nothing to send still says why (missing keys, a diverged copy …).
  if (plan.pushes.length === 0) return console.log('Every cache already has the newest snapshot of each image it carries.');
  for (const p of plan.pushes) printPushPlan(p);
}

const REPLICATION = COMMANDS.replication.subcommands;

/** Per-node replication settings: what the Snapshots view's node settings show and change. */
export async function replicationCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const print = (entries: readonly { node: string; settings: RepoSettings }[]) =>
    console.log(
      table(
        ['NODE', 'REPOSITORY', 'WORKING IMAGES', 'CARRIES', 'LIMIT', 'RATE LIMIT', 'STALL', 'RESUME WAIT', 'REPLICATION ADDRESS', 'RETENTION'],
        entries.map(({ node, settings: s }) => [
          node,
          s.root,
          s.workRoot,
          carried(s.images),
          s.maxTransfers,
          s.rateLimit ? formatRate(s.rateLimit) : 'none',
          `${s.stallSeconds ?? DEFAULT_STALL_SECONDS} s`,
          `${s.resumeWaitMinutes ?? DEFAULT_RESUME_WAIT_MINUTES} min`,
          s.replicationAddress ?? '(inventory address)',
          describeRetention(s),
        ]),
      ),
    );
  const set = async (node: string, settings: SettingsPatch, json: boolean | undefined) => {
    const entry = await core.call('replication.settings.set', { node, settings });
    if (json) printJson(entry);
    else print([entry]);
  };

  if (sub === 'settings') {
    const { values, positionals } = parse(rest, REPLICATION.settings);
    if (positionals.length > 1) throw usageError('Name one node at most.', REPLICATION.settings);
    const entries = await core.call('replication.settings.get', positionals[0] ? { node: positionals[0] } : {});
    if (values.json) printJson(entries);
    else print(entries);
    return 0;
  }
  if (sub === 'carry') {
    const { values, positionals } = parse(rest, REPLICATION.carry);
    const [node, ...images] = positionals;
    if (node === undefined || [values.all, values.none, images.length > 0].filter(Boolean).length !== 1)
      throw usageError(`Say what ${node ?? 'the cache'} carries: --all, --none, or the images by name.`, REPLICATION.carry);
    await set(node, { images: values.all ? 'all' : images }, values.json);
    return 0;
  }
  if (sub === 'retain') {
    const { values, positionals } = parse(rest, REPLICATION.retain);
    if (positionals.length !== 1) throw usageError('Name one node.', REPLICATION.retain);
    const given = values.keep !== undefined || values['keep-within'] !== undefined;
    if (given === (values.default ?? false)) throw usageError('Give --keep and/or --keep-within, or --default.', REPLICATION.retain);
    if (values.keep !== undefined && !/^\d+$/.test(values.keep)) throw new AppError('INVALID_INPUT', `--keep is a whole number of snapshots (got ${JSON.stringify(values.keep)}).`);
    const policy = given ? { ...(values.keep !== undefined ? { keep: Number(values.keep) } : {}), ...(values['keep-within'] !== undefined ? { within: values['keep-within'] } : {}) } : null;
    const node = positionals[0]!;
    if (values.image === undefined) return (await set(node, { retention: policy }, values.json), 0);
    const [current] = await core.call('replication.settings.get', { node });
    const { [values.image]: _old, ...others } = current!.settings.imageRetention ?? {};
    await set(node, { imageRetention: policy ? { ...others, [values.image]: policy } : others }, values.json);
    return 0;
  }
  const { values, positionals } = parse(rest, REPLICATION.set);
  if (positionals.length !== 1) throw usageError('Name one node.', REPLICATION.set);
  if (values.address !== undefined && values['inventory-address']) throw new AppError('INVALID_INPUT', 'Choose --address or --inventory-address, not both.');
  const patch: SettingsPatch = {
    ...(values.root !== undefined ? { root: values.root } : {}),
    ...(values['work-root'] !== undefined ? { workRoot: values['work-root'] } : {}),
    ...(values.limit !== undefined ? { maxTransfers: wholeNumber('--limit', values.limit, 'transfers') } : {}),
    ...(values.stall !== undefined ? { stallSeconds: wholeNumber('--stall', values.stall, 'seconds') } : {}),
    ...(values['resume-wait'] !== undefined ? { resumeWaitMinutes: wholeNumber('--resume-wait', values['resume-wait'], 'minutes') } : {}),
    ...(values['limit-rate'] === 'none' ? { rateLimit: null } : values['limit-rate'] !== undefined ? { rateLimit: limitRate(values['limit-rate']).limitRate! } : {}),
    ...(values.address !== undefined ? { replicationAddress: values.address } : values['inventory-address'] ? { replicationAddress: null } : {}),
  };
  if (Object.keys(patch).length === 0) throw usageError('Name at least one setting to change.', REPLICATION.set);
  await set(positionals[0]!, patch, values.json);
  return 0;
}

/** Per node and image, each snapshot with its verdict: what a dry run shows, what a real run did. */
export async function pruneCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.prune);
  if (positionals.length > 1) throw usageError('Name one node at most.', COMMANDS.prune);
  const dryRun = values['dry-run'] ?? false;
  const report = await core.call('replication.prune', { ...(positionals[0] ? { node: positionals[0] } : {}), dryRun });
  const failed = report.flatMap((n) => n.images.flatMap((i) => i.snapshots.filter((s) => s.error)));
  if (values.json) return (printJson(report), failed.length ? 1 : 0);
  const verdict = (s: PruneReport[number]['images'][number]['snapshots'][number]) =>
    s.keep ? 'keep' : dryRun ? 'would delete' : s.deleted ? 'deleted' : 'FAILED';
  console.log(
    table(
      ['NODE', 'IMAGE', 'SNAPSHOT', 'VERDICT', 'WHY'],
      report.flatMap((n) => n.images.flatMap((i) => i.snapshots.map((s) => [n.node, i.image, s.number, verdict(s), s.error ?? s.why.join('; ')]))),
    ),
  );
  for (const n of report) for (const i of n.images) console.log(`${n.node} ${i.image}: ${i.policy}`);
  return failed.length ? 1 : 0;
}

function carried(images: RepoSettings['images']): string {
  return images === 'all' ? 'all' : images.length ? images.join(',') : '(none)';
}

/**
 * The same history the window shows (the data directory's), running ones first. --watch shows it
 * again every second; with --json it prints each transfer as a JSON line whenever it changed
 * (all of them first), as `kubectl get -w` does, for `jq` to follow.
 */
export async function transfersCommand(core: Core, argv: string[]): Promise<number> {
  if (argv[0] === 'resume') return resumeCommand(core, argv.slice(1));
  const { values, positionals } = parse(argv, COMMANDS.transfers);
  if (positionals.length) throw usageError('transfers takes no arguments.', COMMANDS.transfers);
  const list = () => core.call('transfers.list', {});
  if (!values.watch) {
    if (values.json) printJson(await list());
    else console.log(transfersTable(await list()));
    return 0;
  }
  const seen = new Map<string, string>();
  for (;;) {
    const records = await list();
    if (values.json) {
      for (const r of records) {
        const line = JSON.stringify(r);
        if (seen.get(r.id) !== line) printJsonLine(r);
        seen.set(r.id, line);
      }
    } else {
      if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
      console.log(transfersTable(records));
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function transfersTable(list: readonly TransferRecord[]): string {
  if (!list.length) return 'No transfers yet.';
  const now = Date.now();
  return table(
    ['ID', 'STATE', 'WHAT', 'FROM', 'TO', 'MODE', 'CODEC', 'BYTES', 'RATE', 'CAP', '%', 'ETA', 'ELAPSED', 'STARTED BY'],
    list.map((r) => [
      r.id.slice(0, 8),
      r.state,
      transferSubject(r),
      r.source,
      r.targets.map((t) => `${t.node}${t.state === 'failed' ? '(failed)' : ''}`).join(','),
      r.operation === 'upload' ? 'upload' : r.mode === 'tcp' ? 'tcp (unencrypted)' : r.mode,
      r.operation === 'upload' ? undefined : codecLabel(r.codec, r.codecLevel),
      formatBytes(r.bytes),
      isTransferFinished(r.state) ? undefined : formatRate(r.rate),
      r.rateLimit ? formatRate(r.rateLimit) : undefined,
      formatPercent(r.fraction),
      isTransferFinished(r.state) ? undefined : formatDuration(r.etaSeconds),
      r.startedAt ? formatDuration(((r.endedAt ?? now) - r.startedAt) / 1000) : undefined,
      r.operation === 'push' && r.origin ? `schedule ${r.origin.schedule}` : 'operator',
    ]),
  );
}

export async function cancelCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.cancel);
  if (positionals.length !== 1) throw usageError('Name one transfer.', COMMANDS.cancel);
  const match = await transferByPrefix(core, positionals[0]!);
  const { cancelled } = await core.call('transfers.cancel', { id: match.id });
  const what = match.operation === 'upload' ? 'the partial upload is deleted' : 'partial receives and staged streams are deleted';
  if (values.json) printJson({ id: match.id, cancelled, state: match.state });
  else console.log(cancelled ? `Cancelling ${match.id}; ${what}.` : `${match.id} has already ended (${match.state}).`);
  return cancelled ? 0 : 1;
}

/** A push interrupted when its console went away, run on by this process from what its receivers hold, and followed to its end. */
async function resumeCommand(core: Core, argv: string[]): Promise<number> {
  const spec = COMMANDS.transfers.subcommands.resume;
  const { values, positionals } = parse(argv, spec);
  if (positionals.length !== 1) throw usageError('Name one transfer.', spec);
  const { id } = await transferByPrefix(core, positionals[0]!);
  if (!values.json) console.error(`Resuming ${id}: only what its receivers lack is sent.`);
  const end = await follow(core, await core.call('transfers.resume', { id }), !values.json);
  if (values.json) printJson(end);
  return end.every((t) => t.state === 'done') ? 0 : 1;
}

/** The table shows 8 characters of the id; any unique prefix names a transfer. */
async function transferByPrefix(core: Core, prefix: string): Promise<TransferRecord> {
  const matches = (await core.call('transfers.list', {})).filter((r) => r.id.startsWith(prefix));
  if (matches.length !== 1) throw new AppError(matches.length ? 'INVALID_INPUT' : 'NOT_FOUND', matches.length ? `${prefix} matches ${matches.length} transfers: give more of the id.` : `There is no transfer ${prefix}.`);
  return matches[0]!;
}
