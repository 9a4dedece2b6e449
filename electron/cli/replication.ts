import { AppError } from '../../shared/errors.ts';
import { codecLabel } from '../../shared/compression.ts';
import { keysOffer, type SettingsPatch } from '../../shared/replication.ts';
import type { PushPlan, SyncPlan, TransferRecord } from '../../shared/transfers.ts';
import { isTransferFinished, transferSubject } from '../../shared/transfers.ts';
import type { RepoSettings } from '../../shared/snapshots.ts';
import { formatAge, formatBytes, formatDuration, formatPercent, formatRate } from '../../shared/units.ts';
import type { Core } from '../core/core.ts';
import { parse } from './args.ts';
import { printJson, table } from './output.ts';
import { follow } from './progress.ts';

const SNAPSHOTS_USAGE = 'icbd snapshots [HOST] [--image NAME] [--subvolumes] [--json]';

const CELL: Record<string, string> = { present: 'yes', missing: '-', diverged: 'DIVERGED', transferring: 'in transfer' };

/** Without HOST the tree (a column per node); with HOST that node's snapshots, or its raw subvolume list. */
export async function snapshotsCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { image: { type: 'string' }, subvolumes: { type: 'boolean' }, json: { type: 'boolean' } }, SNAPSHOTS_USAGE);
  const [node] = positionals;
  if (values.subvolumes) {
    if (!node) throw new AppError('INVALID_INPUT', `Name the host whose subvolumes to list.\nusage: ${SNAPSHOTS_USAGE}`);
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
  if (values.json) return (printJson({ ...tree, images }), 0);
  const nodes = tree.nodes.map((n) => n.name);
  console.log(
    table(
      ['IMAGE', 'SNAPSHOT', ...nodes.map((n) => n.toUpperCase()), 'SIZE', 'AGE', 'PARENT'],
      images.flatMap((i) =>
        i.rows.map((r) => [i.name, r.number, ...r.cells.map((c) => CELL[c.state]), formatBytes(r.referencedBytes), formatAge(r.createdAt), r.parent ? (r.parent.number ?? r.parent.uuid.slice(0, 8)) : undefined]),
      ),
    ),
  );
  for (const n of tree.nodes) for (const p of n.problems) console.error(`note: ${p}`);
  for (const i of images) for (const r of i.rows) for (const c of r.cells) if (c.reason) console.error(`${i.name}@${r.number} on ${c.node}: ${c.reason}`);
  return 0;
}

const SNAPSHOT_USAGE = `icbd snapshot create IMAGE [--on HOST] [--json]
       icbd snapshot delete HOST:IMAGE@N [--force] [--json]
       icbd snapshot add-image HOST IMAGE [--json]`;

export async function snapshotCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, { on: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } }, SNAPSHOT_USAGE);
  if (sub === 'create' && positionals.length === 1) {
    const snap = await core.call('replication.snapshot', { image: positionals[0]!, ...(values.on ? { node: values.on } : {}) });
    if (values.json) printJson(snap);
    else console.log(`Created ${snap.image}@${snap.number} (${snap.path}, uuid ${snap.uuid}).`);
    return 0;
  }
  if (sub === 'delete' && positionals.length === 1) {
    const ref = parseRef(positionals[0]!, SNAPSHOT_USAGE);
    if (ref.number === undefined) throw new AppError('INVALID_INPUT', `Name the snapshot number: HOST:IMAGE@N.\nusage: ${SNAPSHOT_USAGE}`);
    const r = await core.call('replication.deleteSnapshot', { node: ref.host, image: ref.image, number: ref.number, force: values.force ?? false });
    if (values.json) printJson(r);
    else console.log(`Deleted ${r.deleted}.`);
    return 0;
  }
  if (sub === 'add-image' && positionals.length === 2) {
    const repo = await core.call('replication.addImage', { node: positionals[0]!, image: positionals[1]! });
    if (values.json) printJson(repo);
    else console.log(`${positionals[1]} is in ${positionals[0]}'s repository (${repo.root}).`);
    return 0;
  }
  throw new AppError('INVALID_INPUT', `usage: ${SNAPSHOT_USAGE}`);
}

/** HOST:IMAGE[@N]; the names themselves are checked by the core, with its messages. */
function parseRef(ref: string, usage: string): { host: string; image: string; number?: number } {
  const m = /^([^:]+):(.+?)(?:@([^@]*))?$/.exec(ref);
  if (!m) throw new AppError('INVALID_INPUT', `Write the snapshot as HOST:IMAGE@N (got ${JSON.stringify(ref)}).\nusage: ${usage}`);
  if (m[3] !== undefined && !/^\d+$/.test(m[3])) throw new AppError('INVALID_INPUT', `The snapshot number after @ is a whole number (got ${JSON.stringify(m[3])}).`);
  return { host: m[1]!, image: m[2]!, ...(m[3] !== undefined ? { number: Number(m[3]) } : {}) };
}

const PUSH_USAGE = 'icbd push HOST:IMAGE[@N] --to HOST[,HOST...] [--compress none|zstd|lz4|gzip|snappy|auto] [--relay|--tcp] [--setup-keys] [--dry-run] [--json]';

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

/** The options push and sync share: how the snapshot travels, keys first, and what is printed. */
const SENDING_OPTIONS = {
  compress: { type: 'string' },
  relay: { type: 'boolean' },
  tcp: { type: 'boolean' },
  'setup-keys': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** --relay, --tcp and --compress as the request's mode and compression; the core checks the codec's name. */
function sending(values: { relay?: boolean | undefined; tcp?: boolean | undefined; compress?: string | undefined }) {
  if (values.relay && values.tcp) throw new AppError('INVALID_INPUT', 'Choose --relay or --tcp, not both.');
  return {
    mode: values.relay ? ('relay' as const) : values.tcp ? ('tcp' as const) : ('direct' as const),
    ...(values.compress ? { compression: values.compress as 'auto' } : {}),
  };
}

/** Follows the started transfers to their end; the exit code says whether every one is done. */
async function followToEnd(core: Core, plan: PushPlan | SyncPlan, transfers: readonly TransferRecord[], json: boolean): Promise<number> {
  const end = await follow(core, transfers, !json);
  if (json) printJson({ plan, transfers: end });
  return end.every((t) => t.state === 'done') ? 0 : 1;
}

export async function pushCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { to: { type: 'string' }, ...SENDING_OPTIONS }, PUSH_USAGE);
  if (positionals.length !== 1 || !values.to) throw new AppError('INVALID_INPUT', `Name one snapshot and its receivers.\nusage: ${PUSH_USAGE}`);
  const how = sending(values);
  const ref = parseRef(positionals[0]!, PUSH_USAGE);
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

const SYNC_USAGE = 'icbd sync [CACHE...] [--compress CODEC] [--relay|--tcp] [--setup-keys] [--dry-run] [--json]';

/** Every carried image's newest snapshot to every cache lacking it; the plan is printed before anything runs. */
export async function syncCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, SENDING_OPTIONS, SYNC_USAGE);
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
    console.log(`  ${g.kind}${g.parent ? ` from parent ${g.parent.number}` : ''} → ${g.targets.join(', ')}: ${codecLabel(g.codec, g.codecLevel)}, about ${formatBytes(g.estimatedBytes)}${g.codecReason ? `\n    compression ${g.codecReason}` : ''}${g.codecNote ? `\n    note: ${g.codecNote}` : ''}`);
  for (const s of plan.skipped) console.log(`  skipped ${s.node}: ${s.reason}`);
  if (plan.setupKeys) console.log(`  keys missing: ${plan.setupKeys.from} cannot ssh to ${plan.setupKeys.to.join(', ')}; --setup-keys sets them up`);
  for (const w of plan.warnings) console.log(`  warning: ${w}`);
}

function printSyncPlan(plan: SyncPlan): void {
  // A push with nothing to send still says why (missing keys, a diverged copy …).
  if (plan.pushes.length === 0) return console.log('Every cache already has the newest snapshot of each image it carries.');
  for (const p of plan.pushes) printPushPlan(p);
}

const REPLICATION_USAGE = `icbd replication settings [NODE] [--json]
       icbd replication carry CACHE (--all | --none | IMAGE...) [--json]
       icbd replication set NODE [--root PATH] [--work-root PATH] [--limit N] [--address ADDR | --inventory-address] [--json]`;

/** Per-node replication settings: what the Snapshots view's node settings show and change. */
export async function replicationCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(
    rest,
    {
      all: { type: 'boolean' },
      none: { type: 'boolean' },
      root: { type: 'string' },
      'work-root': { type: 'string' },
      limit: { type: 'string' },
      address: { type: 'string' },
      'inventory-address': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    REPLICATION_USAGE,
  );
  const print = (entries: readonly { node: string; settings: RepoSettings }[]) =>
    console.log(
      table(
        ['NODE', 'REPOSITORY', 'WORKING IMAGES', 'CARRIES', 'LIMIT', 'REPLICATION ADDRESS'],
        entries.map(({ node, settings: s }) => [node, s.root, s.workRoot, carried(s.images), s.maxTransfers, s.replicationAddress ?? '(inventory address)']),
      ),
    );
  const set = async (node: string, settings: SettingsPatch) => {
    const entry = await core.call('replication.settings.set', { node, settings });
    if (values.json) printJson(entry);
    else print([entry]);
  };

  if (sub === 'settings' && positionals.length <= 1) {
    const entries = await core.call('replication.settings.get', positionals[0] ? { node: positionals[0] } : {});
    if (values.json) printJson(entries);
    else print(entries);
    return 0;
  }
  if (sub === 'carry' && positionals.length >= 1) {
    const [node, ...images] = positionals;
    if ([values.all, values.none, images.length > 0].filter(Boolean).length !== 1)
      throw new AppError('INVALID_INPUT', `Say what ${node} carries: --all, --none, or the images by name.\nusage: ${REPLICATION_USAGE}`);
    await set(node!, { images: values.all ? 'all' : images });
    return 0;
  }
  if (sub === 'set' && positionals.length === 1) {
    if (values.address !== undefined && values['inventory-address']) throw new AppError('INVALID_INPUT', 'Choose --address or --inventory-address, not both.');
    if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new AppError('INVALID_INPUT', `--limit is a whole number of transfers (got ${JSON.stringify(values.limit)}).`);
    const patch: SettingsPatch = {
      ...(values.root !== undefined ? { root: values.root } : {}),
      ...(values['work-root'] !== undefined ? { workRoot: values['work-root'] } : {}),
      ...(values.limit !== undefined ? { maxTransfers: Number(values.limit) } : {}),
      ...(values.address !== undefined ? { replicationAddress: values.address } : values['inventory-address'] ? { replicationAddress: null } : {}),
    };
    if (Object.keys(patch).length === 0) throw new AppError('INVALID_INPUT', `Name at least one setting to change.\nusage: ${REPLICATION_USAGE}`);
    await set(positionals[0]!, patch);
    return 0;
  }
  throw new AppError('INVALID_INPUT', `usage: ${REPLICATION_USAGE}`);
}

function carried(images: RepoSettings['images']): string {
  return images === 'all' ? 'all' : images.length ? images.join(',') : '(none)';
}

const TRANSFERS_USAGE = 'icbd transfers [--watch] [--json]';

/** The same history the window shows (the data directory's), running ones first. */
export async function transfersCommand(core: Core, argv: string[]): Promise<number> {
  const { values } = parse(argv, { watch: { type: 'boolean' }, json: { type: 'boolean' } }, TRANSFERS_USAGE);
  const show = async () => {
    const list = await core.call('transfers.list', {});
    if (values.json) return printJson(list);
    if (!list.length) return console.log('No transfers yet.');
    const now = Date.now();
    console.log(
      table(
        ['ID', 'STATE', 'WHAT', 'FROM', 'TO', 'MODE', 'CODEC', 'BYTES', 'RATE', '%', 'ETA', 'ELAPSED'],
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
          formatPercent(r.fraction),
          isTransferFinished(r.state) ? undefined : formatDuration(r.etaSeconds),
          r.startedAt ? formatDuration(((r.endedAt ?? now) - r.startedAt) / 1000) : undefined,
        ]),
      ),
    );
  };
  if (!values.watch) return (await show(), 0);
  for (;;) {
    if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
    await show();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function cancelCommand(core: Core, argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, 'icbd cancel ID');
  if (positionals.length !== 1) throw new AppError('INVALID_INPUT', 'usage: icbd cancel ID');
  const list = await core.call('transfers.list', {});
  // The table shows 8 characters of the id; accept any unique prefix.
  const matches = list.filter((r) => r.id.startsWith(positionals[0]!));
  if (matches.length !== 1) throw new AppError(matches.length ? 'INVALID_INPUT' : 'NOT_FOUND', matches.length ? `${positionals[0]} matches ${matches.length} transfers: give more of the id.` : `There is no transfer ${positionals[0]}.`);
  const { cancelled } = await core.call('transfers.cancel', { id: matches[0]!.id });
  const what = matches[0]!.operation === 'upload' ? 'the partial upload is deleted' : 'partial receives are deleted';
  console.log(cancelled ? `Cancelling ${matches[0]!.id}; ${what}.` : `${matches[0]!.id} has already ended (${matches[0]!.state}).`);
  return cancelled ? 0 : 1;
}
