import { AppError, toWire } from '../../../shared/errors.ts';
import { REPO_ROLES, findHost, type Host } from '../../../shared/inventory.ts';
import { activeTransfers, keysOffer, wireTree, type PruneReport, type RetentionLookup, type SettingsPatch, type SnapshotInfo, type SnapshotTree } from '../../../shared/replication.ts';
import { DEFAULT_RESUME_WAIT_MINUTES, DEFAULT_STALL_SECONDS, describePolicy, describeRetention, findImage, type NodeRepo, type RepoSettings, type Snapshot } from '../../../shared/snapshots.ts';
import { isTransferFinished, type PushPlan, type PushRecord, type TransferOrigin, type TransferRecord, type UploadRecord } from '../../../shared/transfers.ts';
import type { AuditLog } from '../audit/log.ts';
import { nodeRemote, type HostChange, type NodeRemote } from '../remote/node.ts';
import type { TrustPair } from '../replication/keys.ts';
import { lastSent, snapshotInfo } from '../replication/lineage.ts';
import type { PlannedPush, PushRequest } from '../replication/planner.ts';
import { Replication } from '../replication/replication.ts';
import { busySnapshots, policyFor, retention } from '../replication/retention.ts';
import { ReplicationSettings } from '../replication/settings.ts';
import { listSubvolumes } from '../replication/subvolumes.ts';
import type { SshPool } from '../ssh/pool.ts';
import type { EventBus } from '../util/events.ts';
import { TransferService, type UploadRequest } from './service.ts';
import { TransferStore } from './store.ts';
import { reconcilePush } from './reconcile.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { uploadDir } from './upload.ts';

export interface ReplicationStack {
  remote: NodeRemote;
  replication: Replication;
  transfers: TransferService;
  store: TransferStore;
  settings: ReplicationSettings;
  /** The repository nodes' tree; one node down shows as an empty column that says why. */
  tree(): Promise<SnapshotTree>;
  /** One snapshot's copies with their lineage and retention's verdict (core/replication/lineage.ts). */
  snapshotInfo(image: string, number: number): Promise<SnapshotInfo>;
  subvolumes(node: string): ReturnType<typeof listSubvolumes>;
  /** A snapshot of `image` (on imgs by default), refused while an upload into it runs there. */
  snapshot(node: string | undefined, image: string): Promise<Snapshot>;
  /** Planned again from the nodes' state as it is now, then queued. */
  /** `origin`: the schedule that asked, kept on the transfers' records. */
  push(req: PushRequest & { origin?: TransferOrigin | undefined }): Promise<{ plan: PushPlan; transfers: TransferRecord[] }>;
  sync(req: Parameters<Replication['planSync']>[0] & { origin?: TransferOrigin | undefined }): Promise<{ plan: Awaited<ReturnType<Replication['planSync']>>['plan']; transfers: TransferRecord[] }>;
  /** `limitRate`: the request's cap; default the node's own (RepoSettings.rateLimit). */
  upload(req: Omit<UploadRequest, 'dir' | 'rateLimit'> & { limitRate?: number | undefined }): Promise<UploadRecord>;
  /** Retention on `node` (default every repository node), sparing what the transfers use now; a schedule may call it after its sync. */
  prune(node: string | undefined, dryRun: boolean): Promise<PruneReport>;
  /** Annex 1's deleteImage on `node`, guarded by what the transfers use now. */
  retireImage(node: string, image: string, force: boolean): Promise<{ retired: string; overridden: string[] }>;
  /**
   * Every push whose console went away, checked against its receivers (reconcile.ts); started
   * when the stack opens.
   */
  reconciled: Promise<void>;
  /** Goes on with a push interrupted when its console went away, from what its receivers hold. */
  resume(id: string): Promise<TransferRecord[]>;
  /** The settings of `node`, or of every repository node. */
  settingsOf(node?: string): Promise<{ node: string; settings: RepoSettings }[]>;
  setSettings(node: string, patch: SettingsPatch): Promise<{ node: string; settings: RepoSettings }>;
}

/** The default of RepoSettings.maxTransfers, for a node whose settings were not read yet. */
const DEFAULT_LIMIT = 2;

/**
 * Replication and the transfer monitor over the SSH pool: every change to a node is audited,
 * every transfer change is an event and a line of the history in the data directory.
 */
export function openReplication(o: { home: string; pool: SshPool; getHosts(): Promise<Host[]>; events: EventBus; audit: AuditLog; trust: TrustPair }): ReplicationStack {
  const remote = nodeRemote(o.pool);
  const settings = new ReplicationSettings(o.home);
  const limits = new Map<string, number>();
  const stalls = new Map<string, number>();
  // Rejects, in words, when the log cannot take it: each caller says so where the operator looks.
  const onChange = (c: HostChange) =>
    o.audit.append({ host: c.host, action: c.action, command: c.command, result: c.result, ...(c.detail ? { detail: c.detail } : {}), ...(c.ms !== undefined ? { ms: c.ms } : {}) }).then(
      () => undefined,
      (err: unknown) => {
        throw new AppError('INTERNAL', `The audit log could not record ${c.action} on ${c.host} (${c.result}): ${toWire(err).message}.`);
      },
    );
  const store = new TransferStore(o.home);
  const replication = new Replication({ remote, getHosts: o.getHosts, settings, onChange, trust: o.trust, history: () => store.list() });
  const transfers = new TransferService({
    store,
    remote,
    send: (host, localPath, remotePath, opts) => o.pool.upload(host, localPath, remotePath, opts),
    limit: (node) => limits.get(node) ?? DEFAULT_LIMIT,
    stallSeconds: (nodes) => Math.max(...nodes.map((n) => stalls.get(n) ?? DEFAULT_STALL_SECONDS)),
    resumeWaitMs: async (node) => ((await settingsNow(await host(node))).resumeWaitMinutes ?? DEFAULT_RESUME_WAIT_MINUTES) * 60_000,
    onUpdate: (r) => o.events.emit('transfer.update', r),
    onLog: (id, line) => o.events.emit('transfer.log', { id, at: Date.now(), line }),
    onChange,
  });
  const host = async (name: string) => findHost(await o.getHosts(), name);
  const repoHosts = async () => (await o.getHosts()).filter((h) => REPO_ROLES.has(h.role));
  /** Reads a node's settings; the queue's limit for it follows them as they are now. */
  const settingsNow = async (h: Host) => {
    const read = await settings.get(h.name, h.role);
    limits.set(h.name, read.maxTransfers);
    stalls.set(h.name, read.stallSeconds ?? DEFAULT_STALL_SECONDS);
    return read;
  };

  /** Retention's verdicts on the repositories as read, for the tree; a node whose settings cannot be read shows none. */
  const retainedIn = async (repos: readonly NodeRepo[], source: string, records: readonly TransferRecord[]): Promise<RetentionLookup> => {
    const busy = busySnapshots(records);
    const verdicts = new Map<string, { keep: boolean; why: string[] }>();
    for (const r of repos) {
      const s = await settings.get(r.node, r.role);
      for (const image of retention({ repos, source, node: r.node, policy: (i) => policyFor(s, r.role, i), busy, now: Date.now() }))
        for (const v of image.snapshots) verdicts.set(`${r.node}\0${image.image}\0${v.number}`, v);
    }
    return (node, image, number) => verdicts.get(`${node}\0${image}\0${number}`);
  };

  /** Every repository node as it is now (`image`: only its snapshots), the source and the history; one node down must not hide the others: its column says why it is empty. */
  const readAll = async (image?: string) => {
    const [source, hosts, records] = await Promise.all([replication.source(), repoHosts(), transfers.list()]);
    const repos = await Promise.all(
      hosts.map(
        async (h): Promise<NodeRepo> =>
          replication.repo(h.name, image).catch(async (err: unknown) => ({
            node: h.name,
            role: h.role,
            root: (await settings.get(h.name, h.role)).root,
            exists: false,
            images: [],
            problems: [`${h.name} could not be read: ${err instanceof Error ? err.message : String(err)}`],
          })),
      ),
    );
    return { source, repos, records };
  };

  /** A direct push to nodes the source cannot log in to would only fail in ssh: refuse it with the fix. */
  const refuseWithoutKeys = (plans: readonly PushPlan[]) => {
    const offer = keysOffer(plans);
    if (!offer) return;
    throw new AppError('CONFLICT', `${offer.reasons.map((r) => r.reason).join('\n')}\nSet up node keys from ${offer.from} to ${offer.to.join(', ')} (the plan's "Set up node keys", or --setup-keys), then push again.`, {
      setupKeys: { from: offer.from, to: offer.to },
    });
  };

  /**
   * A second push of a snapshot to a node that is receiving it is refused at once, naming the
   * transfer that holds it, whichever process (window, CLI, a schedule) runs that one: the
   * history is shared. Two that start at the same instant both pass here; the node's own lock
   * (pipeline.ts snapshotLockPath) then refuses one.
   */
  const refuseDuplicates = async (pushes: readonly PlannedPush[]) => {
    const running = (await transfers.list()).filter((r): r is PushRecord => r.operation === 'push' && !isTransferFinished(r.state));
    for (const p of pushes)
      // Skipped ones too: the receive in progress makes the plan see a diverged (writable) copy.
      for (const node of [...p.plan.groups.flatMap((g) => g.targets), ...p.plan.skipped.map((s) => s.node)]) {
        const holder = running.find((r) => r.image === p.plan.image && r.number === p.plan.number && r.targets.some((t) => t.node === node && t.state === 'pending'));
        if (!holder) continue;
        const message = `${node} is already receiving ${p.plan.image}@${p.plan.number} from ${holder.source} (transfer ${holder.id}, ${holder.state}): wait for it to end (icbd transfers), or cancel it (icbd cancel ${holder.id}), then push again.`;
        onChange({ host: node, action: 'replication.refused', command: `push ${p.plan.source}:${p.plan.image}@${p.plan.number}`, result: 'failed', detail: message });
        throw new AppError('CONFLICT', message, { transfer: holder.id });
      }
  };

  /** The queue's per-node limits follow the settings as they are when a transfer is queued. */
  const enqueue = async (pushes: readonly PlannedPush[], origin: TransferOrigin | undefined): Promise<TransferRecord[]> => {
    const nodes = new Set(pushes.flatMap((p) => [p.plan.source, ...p.groups.flatMap((g) => g.wire.targets)]));
    for (const n of nodes) await settingsNow(await host(n));
    const records: TransferRecord[] = [];
    for (const p of pushes) records.push(...(await transfers.enqueue(p, origin)));
    return records;
  };

  const reconciled = (async () => {
    const deps = {
      remote,
      root: async (node: string) => (await settingsNow(await host(node))).root,
      snapshot: async (source: string, image: string, number: number) => (await replication.repo(source)).images.find((i) => i.name === image)?.snapshots.find((s) => s.number === number),
      save: async (r: PushRecord) => {
        await store.put(r);
        o.events.emit('transfer.update', r);
      },
      log: (id: string, line: string) => void store.log(id, line).catch(() => undefined),
      onChange: (c: HostChange) => void onChange(c).catch(() => undefined),
      pause: () => sleep(10_000),
    };
    for (const orphan of await store.orphans().catch(() => [])) await reconcilePush(deps, orphan).catch((err: unknown) => deps.log(orphan.id, `could not reconcile: ${toWire(err).message}`));
  })();

  return {
    remote,
    replication,
    transfers,
    store,
    settings,
    reconciled,
    async resume(id) {
      await reconciled;
      const r = await store.get(id);
      if (!r) throw new AppError('NOT_FOUND', `There is no transfer ${id}.`);
      if (r.operation !== 'push' || !r.resumable || r.state !== 'failed')
        throw new AppError('CONFLICT', `${id.slice(0, 8)} is ${r.state}${r.operation === 'push' && r.state === 'failed' ? ' with nothing staged to resume from: push again' : ''}; only a push interrupted with part of its stream on its receivers can be resumed.`);
      const planned = await replication.planPush({
        source: r.source,
        targets: r.targets.filter((t) => t.state !== 'done').map((t) => t.node),
        image: r.image,
        number: r.number,
        mode: r.mode,
        compression: r.codec,
        ...(r.rateLimit ? { limitRate: r.rateLimit } : {}),
        resume: true,
        id: r.id,
      });
      refuseWithoutKeys([planned.plan]);
      if (planned.groups.length === 0) throw new AppError('CONFLICT', `Nothing left to send: ${planned.plan.skipped.map((s) => s.reason).join(' ')}`);
      return enqueue([planned], r.origin);
    },
    async tree() {
      const { source, repos, records } = await readAll();
      const policies = new Map(await Promise.all(repos.map(async (r) => [r.node, describeRetention(await settings.get(r.node, r.role), r.role)] as const)));
      return wireTree(repos, source, activeTransfers(records), Date.now(), await retainedIn(repos, source, records), lastSent(records), policies);
    },
    async snapshotInfo(image, number) {
      const { source, repos, records } = await readAll(image);
      if (!repos.some((r) => findImage(r, image)?.snapshots.some((s) => s.number === number))) throw new AppError('NOT_FOUND', `No node has ${image}@${number}: refresh the tree.`);
      const policies = new Map(await Promise.all(repos.map(async (r) => [r.node, describePolicy(policyFor(await settings.get(r.node, r.role), r.role, image))] as const)));
      return snapshotInfo({ repos, source, image, number, records, active: activeTransfers(records), retained: await retainedIn(repos, source, records), policy: (node) => policies.get(node) ?? '' });
    },
    async subvolumes(node) {
      const h = await host(node);
      const { root, workRoot } = await settings.get(node, h.role);
      return listSubvolumes(remote, node, [root, workRoot, '/var/lib/icbd', '/var/lib', '/']);
    },
    async snapshot(node, image) {
      const on = node ?? (await replication.source());
      // A snapshot taken now would keep the upload's half-written file, in its staging directory, for ever.
      const uploading = (await transfers.list()).find(
        (t): t is UploadRecord => t.operation === 'upload' && !isTransferFinished(t.state) && 'image' in t.into && t.into.image === image && t.targets.some((x) => x.node === on),
      );
      if (uploading) throw new AppError('CONFLICT', `${uploading.name} is still being uploaded into ${image} on ${on} (transfer ${uploading.id.slice(0, 8)}): snapshot it once the upload is done, or cancel the upload.`);
      return replication.createSnapshot(on, image);
    },
    async push(req) {
      const planned = await replication.planPush(req);
      refuseWithoutKeys([planned.plan]);
      await refuseDuplicates([planned]);
      return { plan: planned.plan, transfers: await enqueue([planned], req.origin) };
    },
    async sync(req) {
      const { plan, pushes } = await replication.planSync(req);
      refuseWithoutKeys(plan.pushes);
      await refuseDuplicates(pushes);
      return { plan, transfers: await enqueue(pushes, req.origin) };
    },
    async upload(req) {
      const h = await host(req.node);
      const own = await settingsNow(h);
      return transfers.upload({ ...req, dir: uploadDir(h.name, h.role, own, req.into), rateLimit: req.limitRate ?? own.rateLimit });
    },
    async prune(node, dryRun) {
      return replication.prune(node ? [(await host(node)).name] : undefined, busySnapshots(await transfers.list()), dryRun);
    },
    async retireImage(node, image, force) {
      return replication.retireImage(node, image, busySnapshots(await transfers.list()), force);
    },
    async settingsOf(node) {
      const hosts = node ? [await host(node)] : await repoHosts();
      return Promise.all(hosts.map(async (h) => ({ node: h.name, settings: await settings.get(h.name, h.role) })));
    },
    async setSettings(node, patch) {
      const h = await host(node);
      const merged = await settings.set(node, h.role, patch);
      limits.set(node, merged.maxTransfers);
      stalls.set(node, merged.stallSeconds ?? DEFAULT_STALL_SECONDS);
      return { node, settings: merged };
    },
  };
}
