import { chooseCodec, codecsFromTools, type CodecRequest } from '../../../shared/compression.ts';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { command } from '../../../shared/shell.ts';
import {
  carries,
  chooseParent,
  findImage,
  identity,
  sameSnapshot,
  snapshotPath,
  type NodeRepo,
  type RepoSettings,
  type Snapshot,
} from '../../../shared/snapshots.ts';
import type { PushPlan, SyncPlan, TransferGroup, TransferMode } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';
import type { NodeTools } from './commands.ts';
import { policyFor, prunable, retention } from './retention.ts';
import { describeProblem, type AccessProblem } from './keys.ts';
import { chooseStaging, chooseZstdLevel, type AutoChoice, type CompressorSpeed, type LinkFact } from './link-codec.ts';
import { buildPipeline, receiveLockPath, stagingPath, tcpSecret, type PipelineCommands, type PipelineSpec } from './pipeline.ts';

export interface NodeFacts {
  host: Host;
  settings: RepoSettings;
  repo: NodeRepo;
  tools: NodeTools;
}

export interface PlanContext {
  nodes: ReadonlyMap<string, NodeFacts>;
  /** Whether relay mode can run (the remote honours `stdout`). */
  relayAvailable: boolean;
  newId(): string;
  /** A one-time port for a tcp receiver. */
  tcpPort(): number;
  /** Direct mode: why the source cannot ssh to a receiver (keys.ts); receivers absent here can. */
  access?: ReadonlyMap<string, AccessProblem>;
  /** The stream size of sending `snapshot` (against `parent`), measured on the source; null if unknown. */
  estimate(source: string, snapshot: string, parent: string | null): Promise<{ bytes: number } | { problem: string }>;
  /** For auto compression: the sender's zstd speed (measured once per node). */
  compressor(source: string): Promise<CompressorSpeed>;
  /** The link to one receiver, from the history or (`probe`, default) a short probe; why not when unknown. */
  link(source: string, target: string, mode: TransferMode, compressor: CompressorSpeed, probe?: boolean): Promise<LinkFact | { node: string; unknown: string }>;
  /** What btrfs can still allocate on the filesystem holding `path` on `node`. */
  free(node: string, path: string): Promise<{ bytes: number } | { problem: string }>;
}

/** auto with zstd on every end: the level, or none, from the links and the sender's CPU. */
async function autoLevel(ctx: PlanContext, source: string, targets: readonly string[], mode: TransferMode): Promise<AutoChoice> {
  const compressor = await ctx.compressor(source);
  const links = await Promise.all(targets.map((t) => ctx.link(source, t, mode, compressor)));
  return chooseZstdLevel({ source, links, compressor });
}

// A receive writes metadata beside the stream's data, and a btrfs that runs out of metadata space
// mid-receive is hard to recover: keep a margin of 5 % and 64 MiB.
const headroom = (bytes: number) => Math.ceil(bytes * 0.05) + 64 * 2 ** 20;

/**
 * Whether `target` has room for a stream of `bytes`: for the snapshot and, beside it while both
 * exist, the staged stream a resume starts from (when `wanted`: stage); for the snapshot only
 * (the push goes on without staging, and sends again from the start after a cut: said in
 * `notes`); or not at all (why, naming what retention would free there).
 */
async function room(ctx: PlanContext, source: NodeFacts, target: NodeFacts, bytes: number | null, wanted: boolean, warnings: string[], notes: string[]): Promise<{ stage: boolean; problem?: string }> {
  const name = target.host.name;
  if (bytes === null) return { stage: wanted };
  const free = await ctx.free(name, target.repo.root);
  if ('problem' in free) return (warnings.push(`The free space on ${name} is unknown (${free.problem}): the push is not checked against it.`), { stage: wanted });
  if (wanted && 2 * bytes + headroom(2 * bytes) <= free.bytes) return { stage: true };
  if (bytes + headroom(bytes) <= free.bytes) {
    if (wanted)
      notes.push(`${name} has ${formatBytes(free.bytes)} free: room for the snapshot but not for its staged stream beside it (about ${formatBytes(2 * bytes + headroom(2 * bytes))} with both), so nothing is staged there and a cut link or a restart of ${name} sends this push again from the start once it answers.`);
    return { stage: false };
  }
  return { stage: false, problem: roomProblem(source, target, bytes, free.bytes) };
}

/**
 * Whether each receiver should stage (link-codec.ts chooseStaging): not in tcp mode (its listen
 * cannot wait while a resume replays what is staged), always on a resume (its receivers may hold
 * staged bytes already). Only auto compression probes a link the history says nothing of: a probe
 * fills a site link for 2 s, a cost the operator chose with auto, not with a codec of their own.
 */
async function stagingWanted(req: PushRequest, ctx: PlanContext, candidates: readonly NodeFacts[], bytes: number | null, notes: string[]): Promise<boolean[]> {
  if (req.mode === 'tcp') return candidates.map(() => false);
  if (req.resume) return candidates.map(() => true);
  const compressor = await ctx.compressor(req.source);
  const cap = capOf(req, candidates);
  return Promise.all(
    candidates.map(async (t) => {
      let link = await ctx.link(req.source, t.host.name, req.mode, compressor, req.compression === 'auto');
      // A relay cannot be probed; the node's site link, as direct pushes saw it, is what staging is about.
      if ('unknown' in link && req.mode === 'relay') link = await ctx.link(req.source, t.host.name, 'direct', compressor, false);
      const choice = chooseStaging({ link, cap, bytes });
      if (choice.reason) notes.push(choice.reason);
      return choice.stage;
    }),
  );
}

/** Why `target` has no room for a stream of `bytes`, naming what retention would free there. */
function roomProblem(source: NodeFacts, target: NodeFacts, bytes: number, free: number): string {
  const name = target.host.name;
  const images = retention({
    repos: [source.repo, target.repo],
    source: source.host.name,
    node: name,
    policy: (image) => policyFor(target.settings, target.repo.role, image),
    busy: [],
    now: Date.now(),
  });
  const freed = prunable(images);
  return (
    `${name} has ${formatBytes(free)} free (btrfs filesystem usage, estimated) and this stream needs about ${formatBytes(bytes)} plus ${formatBytes(headroom(bytes))} of headroom: nothing was sent. ` +
    (freed.length
      ? `Its retention policy would delete ${freed.join(', ')} (icbd prune ${name} --dry-run shows why), or free space on it by hand.`
      : `Its retention policy would delete nothing there: free space on it by hand, or keep fewer snapshots (icbd replication retain ${name} --keep N).`)
  );
}

/** What the plan says of staging: who stages, where and how much, and who cannot resume. */
function stagingNote(mode: TransferMode, targets: readonly RunTarget[], bytes: number | null, notes: readonly string[]): string {
  if (mode === 'tcp') return 'tcp transport: nothing is staged, so a cut link or a restart fails the push instead of resuming (direct and relay modes resume).';
  const staging = targets.filter((t) => t.stagingPath !== undefined);
  const where = [...new Set(staging.map((t) => t.stagingPath!.slice(0, t.stagingPath!.lastIndexOf('/'))))].join(', ');
  return [
    ...(staging.length
      ? [
          `${staging.map((t) => t.node).join(', ')} keep${staging.length === 1 ? 's' : ''} the stream as it arrives (${bytes === null ? 'as much again as the snapshot' : `about ${formatBytes(bytes)} beside the snapshot`}, in ${where}) so that a cut link or a restart resumes where it stopped; it is deleted once the snapshot is verified.`,
        ]
      : []),
    ...notes,
  ].join(' ');
}

export interface PlannedGroup {
  id: string;
  wire: TransferGroup;
  spec: PipelineSpec;
  commands: PipelineCommands;
  targets: RunTarget[];
  parent: Snapshot | null;
}

export interface PlannedPush {
  plan: PushPlan;
  snapshot: Snapshot;
  groups: PlannedGroup[];
}

export interface PushRequest {
  source: string;
  targets: readonly string[];
  image: string;
  number?: number | undefined;
  mode: TransferMode;
  compression: CodecRequest;
  /** Bytes per second; default the lowest of the receivers' own caps (RepoSettings.rateLimit). */
  limitRate?: number | undefined;
  /**
   * Resuming an interrupted push: a same-numbered writable subvolume without received_uuid on a
   * receiver is that push's own receive cut short (the receiving end proves it by the staged
   * stream beside it, or refuses), not a diverged copy.
   */
  resume?: boolean;
  /** The transfer id to keep (a resume goes on under the interrupted transfer's id). */
  id?: string;
}

/** The request's cap, or the lowest the receivers set for themselves: the slowest site link's. */
function capOf(req: PushRequest, targets: readonly NodeFacts[]): number | undefined {
  if (req.limitRate !== undefined) return req.limitRate;
  const own = targets.flatMap((t) => (t.settings.rateLimit === undefined ? [] : [t.settings.rateLimit]));
  return own.length ? Math.min(...own) : undefined;
}

function node(ctx: PlanContext, name: string): NodeFacts {
  const n = ctx.nodes.get(name);
  if (!n) throw new AppError('NOT_FOUND', `There is no node ${name} in the inventory.`);
  return n;
}

/** A receiver of a planned transfer, as the runner (transfers/runner.ts) verifies or cleans it. */
export interface RunTarget {
  node: string;
  /** `<root>/<image>/<n>`: where the received snapshot appears. */
  finalPath: string;
  /** What the receiving end holds while it runs (pipeline.ts receiveLockPath). */
  lockPath: string;
  /** The stream as it arrived (pipeline.ts stagingPath): what a resume starts from; absent: nothing is staged. */
  stagingPath?: string | undefined;
}

/** Why `target` does not take part; undefined when it does. */
function skipReason(req: PushRequest, snap: Snapshot, target: NodeFacts): string | undefined {
  const name = target.host.name;
  if (!target.repo.exists) return `${name} has no repository at ${target.repo.root} (install its role first, or set its repository path).`;
  if (!target.tools.tools.has('btrfs')) return `${name} has no btrfs command.`;
  if (!carries(target.settings, req.image)) return `${name} does not carry ${req.image} (its image list leaves it out).`;
  const theirs = findImage(target.repo, req.image)?.snapshots ?? [];
  const same = theirs.find((s) => sameSnapshot(s, snap));
  if (same) return same.number === snap.number ? `${name} already has ${req.image}@${snap.number}.` : `${name} already has this snapshot, as ${req.image}@${same.number}.`;
  const clash = theirs.find((s) => s.number === snap.number);
  const cutShort = req.resume && clash && !clash.readOnly && clash.receivedUuid === null;
  if (clash && !cutShort) return `${name} has a different ${req.image}@${snap.number} (diverged: identity ${identity(clash)}, the source's is ${identity(snap)}); delete it on ${name} to receive this one.`;
  if (req.mode === 'tcp' && !target.tools.tools.has('socat')) return `${name} has no socat, which the tcp transport needs (install socat, or use direct mode).`;
  return undefined;
}

export async function planPush(req: PushRequest, ctx: PlanContext): Promise<PlannedPush> {
  const source = node(ctx, req.source);
  if (req.mode === 'relay' && !ctx.relayAvailable) throw new AppError('UNAVAILABLE', 'Relay mode is not available: the SSH layer cannot stream a command’s output yet.');
  if (req.mode === 'tcp' && !source.tools.tools.has('socat')) throw new AppError('UNAVAILABLE', `${req.source} has no socat, which the tcp transport needs: install it or use direct mode.`);
  const image = findImage(source.repo, req.image);
  if (!image || image.snapshots.length === 0) throw new AppError('NOT_FOUND', `${req.source} has no snapshot of ${req.image} in ${source.repo.root}.`);
  const snap = req.number === undefined ? image.snapshots.at(-1)! : image.snapshots.find((s) => s.number === req.number);
  if (!snap) throw new AppError('NOT_FOUND', `${req.source} has no ${req.image}@${req.number}.`);
  if (!snap.readOnly) throw new AppError('CONFLICT', `${snap.path} is not read-only: btrfs sends only read-only snapshots.`);

  const skipped: PushPlan['skipped'] = [];
  const needKeys: string[] = [];
  const byParent = new Map<string, { parent: Snapshot | null; targets: NodeFacts[] }>();
  for (const name of new Set(req.targets)) {
    if (name === req.source) throw new AppError('INVALID_INPUT', `${name} is the source; it cannot also receive.`);
    const target = node(ctx, name);
    const access = req.mode === 'direct' ? ctx.access?.get(name) : undefined;
    if (access && access.kind !== 'unreachable' && !skipReason(req, snap, target)) needKeys.push(name);
    const reason = skipReason(req, snap, target) ?? (access && `${describeProblem(req.source, access)}.`);
    if (reason) {
      skipped.push({ node: name, reason });
      continue;
    }
    const parent = chooseParent(image.snapshots, findImage(target.repo, req.image)?.snapshots ?? [], snap);
    const key = parent?.uuid ?? 'full';
    const group = byParent.get(key) ?? { parent, targets: [] };
    group.targets.push(target);
    byParent.set(key, group);
  }

  const warnings: string[] = [];
  if (req.mode === 'tcp') warnings.push('tcp transport: the snapshot data crosses the network unencrypted; use it only on a trusted replication network.');
  const fanOut = [...byParent.values()].some((g) => g.targets.length > 1);
  if (fanOut && req.mode !== 'relay' && !source.tools.tools.has('tee')) throw new AppError('UNAVAILABLE', `${req.source} has no tee, which a fan-out needs.`);
  if (fanOut && req.mode !== 'relay' && !source.tools.teeKeepsGoing)
    warnings.push(`${req.source}'s tee has no -p (coreutils older than 8.24): if one receiver of a fan-out fails, the others fail with it.`);

  const planned = await Promise.all(
    [...byParent.values()].map(async ({ parent, targets: candidates }, k): Promise<PlannedGroup | undefined> => {
      const estimate = await ctx.estimate(req.source, snap.path, parent?.path ?? null);
      const estimatedBytes = 'bytes' in estimate ? estimate.bytes : null;
      if ('problem' in estimate) warnings.push(`No size estimate for ${req.image}@${snap.number} (${estimate.problem}): the monitor will show the rate, not the percent or ETA.`);
      const notes: string[] = [];
      const wanted = await stagingWanted(req, ctx, candidates, estimatedBytes, notes);
      // A resume's receivers hold their staged bytes already: the file only grows to the stream.
      const rooms = req.resume ? candidates.map((_, j) => ({ stage: wanted[j]!, problem: undefined })) : await Promise.all(candidates.map((t, j) => room(ctx, source, t, estimatedBytes, wanted[j]!, warnings, notes)));
      const targets = candidates.filter((t, k) => {
        const reason = rooms[k]!.problem;
        if (reason) skipped.push({ node: t.host.name, reason });
        return !reason;
      });
      if (targets.length === 0) return undefined;
      const staging = (t: NodeFacts) => rooms[candidates.indexOf(t)]!.stage;
      const id = k === 0 && req.id ? req.id : ctx.newId();
      const codec = chooseCodec(req.compression, [source, ...targets].map((n) => ({ node: n.host.name, codecs: codecsFromTools(n.tools.tools) })));
      const cap = capOf(req, targets);
      const auto = req.compression === 'auto' && codec.codec === 'zstd' ? await autoLevel(ctx, req.source, targets.map((t) => t.host.name), req.mode) : undefined;
      const chosen: Pick<TransferGroup, 'codec' | 'codecLevel' | 'codecReason'> = auto ? { codec: auto.level ? codec.codec : 'none', ...(auto.level ? { codecLevel: auto.level } : {}), codecReason: auto.reason } : { codec: codec.codec };
      const runTargets = targets.map(
        (t): RunTarget => ({
          node: t.host.name,
          finalPath: snapshotPath(t.repo.root, req.image, snap.number),
          lockPath: receiveLockPath(id, t.host.name),
          ...(staging(t) ? { stagingPath: stagingPath(t.repo.root, req.image, snap.number, snap.uuid, parent?.uuid ?? null) } : {}),
        }),
      );
      const spec: PipelineSpec = {
        transferId: id,
        mode: req.mode,
        codec: chosen.codec,
        codecLevel: chosen.codecLevel,
        meter: true,
        teeKeepsGoing: source.tools.teeKeepsGoing,
        ...(cap !== undefined ? { rateLimit: cap } : {}),
        snapshotPath: snap.path,
        parentPath: parent?.path ?? null,
        ...(req.mode === 'tcp' ? { sourceAddress: source.settings.replicationAddress ?? source.host.address, secret: tcpSecret() } : {}),
        targets: targets.map((t, k) => ({
          node: t.host.name,
          address: t.settings.replicationAddress ?? t.host.address,
          user: t.host.user,
          sshPort: t.host.port,
          imageDir: `${t.repo.root}/${req.image}`,
          finalPath: runTargets[k]!.finalPath,
          stagingPath: runTargets[k]!.stagingPath,
          ...(req.mode === 'tcp' ? { tcpPort: ctx.tcpPort() } : {}),
        })),
      };
      const commands = buildPipeline(spec);
      const wire: TransferGroup = {
        kind: parent ? 'incremental' : 'full',
        parent: parent ? { number: parent.number, uuid: parent.uuid } : null,
        targets: targets.map((t) => t.host.name),
        ...chosen,
        ...(codec.note ? { codecNote: codec.note } : {}),
        ...(cap !== undefined ? { rateLimit: cap } : {}),
        estimatedBytes,
        staging: stagingNote(req.mode, runTargets, estimatedBytes, notes),
        commands: [
          ...commands.receivers.map((r) => ({ host: r.host, purpose: req.mode === 'tcp' ? 'listen once and receive' : 'receive from the relay', command: command(r.argv) })),
          { host: req.source, purpose: req.mode === 'relay' ? 'send to the relay' : targets.length > 1 ? 'send once to every receiver' : 'send', command: command(commands.sender) },
        ],
      };
      return { id, wire, spec, commands, targets: runTargets, parent };
    }),
  );
  const groups = planned.filter((g) => g !== undefined);
  const plan: PushPlan = {
    source: req.source,
    image: req.image,
    number: snap.number,
    uuid: snap.uuid,
    mode: req.mode,
    encrypted: req.mode !== 'tcp',
    groups: groups.map((g) => g.wire),
    skipped,
    warnings,
    ...(needKeys.length ? { setupKeys: { from: req.source, to: needKeys } } : {}),
  };
  return { plan, snapshot: snap, groups };
}

/**
 * Every image the source has, newest snapshot, to every target that carries it and lacks it;
 * planPush groups the receivers of each image into fan-outs by parent.
 */
export async function planSync(
  req: { source: string; targets: readonly string[]; mode: TransferMode; compression: CodecRequest; limitRate?: number | undefined },
  ctx: PlanContext,
): Promise<{ plan: SyncPlan; pushes: PlannedPush[] }> {
  const source = node(ctx, req.source);
  const pushes: PlannedPush[] = [];
  for (const image of source.repo.images) {
    const newest = image.snapshots.at(-1);
    if (!newest) continue;
    // Nodes that cannot take it (diverged copy, no repository …) stay in, so the plan says why.
    const lacking = req.targets.filter((t) => {
      const n = node(ctx, t);
      return carries(n.settings, image.name) && !(findImage(n.repo, image.name)?.snapshots ?? []).some((s) => sameSnapshot(s, newest));
    });
    if (lacking.length === 0) continue;
    pushes.push(await planPush({ ...req, targets: lacking, image: image.name, number: newest.number }, ctx));
  }
  return { plan: { pushes: pushes.map((p) => p.plan), upToDate: pushes.every((p) => p.groups.length === 0) }, pushes };
}
