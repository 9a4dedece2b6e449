import { randomInt, randomUUID } from 'node:crypto';
import { AppError, toWire } from '../../../shared/errors.ts';
import { REPO_ROLES, findHost, type Host } from '../../../shared/inventory.ts';
import {
  buildTree,
  carries,
  deletionBlockers,
  describePolicy,
  findImage,
  imageName,
  nextSnapshotNumber,
  parseRepoListing,
  parseSubvolumeShow,
  snapshotPath,
  type ActiveTransfer,
  type NodeRepo,
  type Snapshot,
  type TreeImage,
} from '../../../shared/snapshots.ts';
import type { DiskUse } from '../../../shared/overview.ts';
import type { PruneReport, SnapshotUsage } from '../../../shared/replication.ts';
import type { CodecRequest } from '../../../shared/compression.ts';
import type { TransferMode, TransferRecord } from '../../../shared/transfers.ts';
import { ASSUMED_COMPRESSOR, linkFromHistory, type CompressorSpeed, type LinkFact } from './link-codec.ts';
import { receiveWrapperId, sshArgv } from './pipeline.ts';
import {
  addImageArgv,
  compressorBenchArgv,
  linkProbeArgv,
  parseLinkProbe,
  parseZstdBench,
  LINK_PROBE_MIB,
  deleteSnapshotArgv,
  estimateArgv,
  filesystemDuArgv,
  filesystemUsageArgv,
  lastText,
  listRepoArgv,
  parseEstimate,
  parseFilesystemDu,
  parseFilesystemUsage,
  parseProbe,
  probeArgv,
  retireImageArgv,
  showArgv,
  snapshotArgv,
} from './commands.ts';
import { checkAccess, setupKeys, type AccessProblem, type AccessTarget, type SetupKeysResult, type TrustPair } from './keys.ts';
import { planPush, planSync, type NodeFacts, type PlanContext, type PlannedPush, type PushRequest } from './planner.ts';
import { command } from '../../../shared/shell.ts';
import { runText, type HostChange, type NodeRemote } from '../remote/node.ts';
import type { ReplicationSettings } from './settings.ts';
import { policyFor, retention, retireBlockers, type BusySnapshot, type ImageRetention } from './retention.ts';

export interface ReplicationOptions {
  remote: NodeRemote;
  getHosts(): Promise<Host[]>;
  settings: ReplicationSettings;
  /** Every command that changes a node, with its outcome (the audit log). */
  /** The audit log; rejects when it could not record the change. */
  onChange?(change: HostChange): Promise<void>;
  /** Node keys are the installer's trust between two nodes (keys.ts). */
  trust: TrustPair;
  /** The transfer history: auto compression reads the links' recent rates from it. */
  history(): Promise<readonly TransferRecord[]>;
}

/** The roles that hold an image repository: the source of images and its replicas. */

/**
 * Image repositories on every node (Annex 1's ImageRepo, MasterNode and ReplicaNode in one
 * place): listing, adding images, snapshots, guarded deletion, and push/sync plans. Reading is
 * one SSH round trip per node for the listing and one for the tool probe.
 */
export class Replication {
  /** A node's compressor speed changes with its hardware, not between plans: measured once. */
  readonly #compressors = new Map<string, Promise<CompressorSpeed>>();

  constructor(private readonly o: ReplicationOptions) {}

  async #host(name: string): Promise<Host> {
    return findHost(await this.o.getHosts(), name);
  }

  async #run(node: string, argv: string[], what: string, timeoutMs = 120_000) {
    const r = await runText(this.o.remote, node, argv, { sudo: true, timeoutMs });
    if (r.code !== 0) throw new AppError('REMOTE_FAILED', `${what} on ${node} failed: ${lastText(r.stderr) || `exit code ${r.code}`}`, { stderr: r.stderr.slice(-4000) });
    return r;
  }

  /** #run for a command that changes the node: its outcome goes to onChange, failed or not, with `why` when given. */
  async #change(node: string, action: string, argv: string[], what: string, why?: string) {
    const t0 = Date.now();
    const report = (result: HostChange['result'], detail?: string) =>
      this.o.onChange?.({ host: node, action, command: command(argv), result, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
    let r;
    try {
      r = await this.#run(node, argv, what);
    } catch (err) {
      const w = toWire(err);
      await report('failed', why ? `${why}; ${w.message}` : w.message)?.catch((auditErr: unknown) => {
        throw new AppError(w.code, `${w.message} ${toWire(auditErr).message}`, w.detail);
      });
      throw err;
    }
    // Done on the node, but not done for the operator until the log has it.
    await report('ok', why)?.catch((err: unknown) => {
      throw new AppError('INTERNAL', `${what} on ${node} was done, but ${toWire(err).message} Fix the data directory; the change itself stands.`);
    });
    return r;
  }

  /** The source of images: the inventory's imgs node. */
  async source(): Promise<string> {
    const imgs = (await this.o.getHosts()).find((h) => h.role === 'imgs');
    if (!imgs) throw new AppError('NOT_FOUND', 'The inventory has no imgs node (the image source).');
    return imgs.name;
  }

  /** `image`: only that image's snapshots (one snapshot's details need no more). */
  async repo(name: string, image?: string): Promise<NodeRepo> {
    const host = await this.#host(name);
    const { root } = await this.o.settings.get(name, host.role);
    const r = await this.#run(name, listRepoArgv(root, image === undefined ? '' : imageName.parse(image)), 'Listing the image repository');
    return parseRepoListing(name, host.role, root, r.stdout);
  }

  async repos(nodes?: readonly string[]): Promise<NodeRepo[]> {
    const names = nodes ?? (await this.o.getHosts()).filter((h) => REPO_ROLES.has(h.role)).map((h) => h.name);
    return Promise.all(names.map((n) => this.repo(n)));
  }

  /** btrfs' own figures for the filesystem the node's repository is (or will be) on. */
  async diskUse(name: string): Promise<DiskUse> {
    const host = await this.#host(name);
    const { root } = await this.o.settings.get(name, host.role);
    const r = await this.#run(name, filesystemUsageArgv(root), 'Reading btrfs filesystem usage', 30_000);
    return parseFilesystemUsage(r.stdout);
  }

  /** One snapshot's disk use without quotas (btrfs filesystem du): it walks every extent, so it runs on request only. */
  async measure(node: string, image: string, number: number): Promise<SnapshotUsage> {
    imageName.parse(image);
    const host = await this.#host(node);
    const path = snapshotPath((await this.o.settings.get(node, host.role)).root, image, number);
    const r = await this.#run(node, filesystemDuArgv(path), `Measuring ${image}@${number} (btrfs filesystem du)`, 600_000);
    return { node, path, ...parseFilesystemDu(r.stdout) };
  }

  async tree(active: readonly ActiveTransfer[] = []): Promise<TreeImage[]> {
    return buildTree(await this.repos(), await this.source(), active);
  }

  async addImage(node: string, image: string): Promise<NodeRepo> {
    imageName.parse(image);
    const host = await this.#host(node);
    const s = await this.o.settings.get(node, host.role);
    // Only the source edits images; replicas get the directory that receives go into.
    await this.#change(node, 'replication.addImage', addImageArgv(`${s.root}/${image}`, host.role === 'imgs' ? `${s.workRoot}/${image}` : undefined), `Adding ${image}`);
    return this.repo(node);
  }

  /** The next numbered read-only snapshot of the image's working subvolume. */
  async createSnapshot(node: string, image: string): Promise<Snapshot> {
    imageName.parse(image);
    const host = await this.#host(node);
    const s = await this.o.settings.get(node, host.role);
    const number = nextSnapshotNumber(findImage(await this.repo(node), image));
    const path = snapshotPath(s.root, image, number);
    await this.#change(node, 'snapshot.create', snapshotArgv(`${s.workRoot}/${image}`, path), `Snapshotting ${image}`);
    const shown = await this.#run(node, showArgv(path), `Reading ${path}`);
    return { image, number, path, ...parseSubvolumeShow(shown.stdout) };
  }

  /** Refused (CONFLICT, with the reasons) when a replica still needs it as parent, unless forced. */
  async deleteSnapshot(node: string, image: string, number: number, force = false): Promise<void> {
    imageName.parse(image);
    const repos = await this.repos();
    const snap = findImage(repos.find((r) => r.node === node), image)?.snapshots.find((s) => s.number === number);
    if (!snap) throw new AppError('NOT_FOUND', `${node} has no ${image}@${number}.`);
    const blockers = deletionBlockers(repos, await this.source(), node, image, number);
    if (blockers.length && !force) throw new AppError('CONFLICT', `${blockers.join('\n')}\nDelete it anyway with force.`, { blockers });
    await this.#change(node, 'snapshot.delete', deleteSnapshotArgv(snap.path), `Deleting ${snap.path}`);
  }

  /**
   * What retention keeps and deletes on each node (default: every repository node). A replica's
   * verdict needs the source's repository, the source's needs every replica's: an unreadable one
   * fails the run, since a parent it needs cannot be told.
   */
  async retention(nodes: readonly string[] | undefined, busy: readonly BusySnapshot[], now = Date.now()): Promise<{ node: string; images: ImageRetention[] }[]> {
    const hosts = await this.o.getHosts();
    const source = await this.source();
    const names = nodes ?? hosts.filter((h) => REPO_ROLES.has(h.role)).map((h) => h.name);
    const needed = names.includes(source) ? undefined : [source, ...names];
    const repos = await this.repos(needed);
    return Promise.all(
      names.map(async (node) => {
        const host = findHost(hosts, node);
        const settings = await this.o.settings.get(node, host.role);
        return { node, images: retention({ repos, source, node, policy: (image) => policyFor(settings, host.role, image), busy, now }) };
      }),
    );
  }

  /** Retention's deletions, each audited with the policy that let it go; one that fails does not stop the others. */
  async prune(nodes: readonly string[] | undefined, busy: readonly BusySnapshot[], dryRun: boolean): Promise<PruneReport> {
    const verdicts = await this.retention(nodes, busy);
    const report: PruneReport = [];
    for (const { node, images } of verdicts) {
      const out: PruneReport[number] = { node, images: [] };
      for (const image of images) {
        const snapshots = [];
        for (const s of image.snapshots) {
          if (s.keep || dryRun) {
            snapshots.push(s);
            continue;
          }
          try {
            await this.#change(node, 'snapshot.prune', deleteSnapshotArgv(s.path), `Deleting ${s.path}`, `${image.image}@${s.number}: ${s.why.join('; ')}`);
            snapshots.push({ ...s, deleted: true });
          } catch (err) {
            snapshots.push({ ...s, deleted: false, error: err instanceof Error ? err.message : String(err) });
          }
        }
        out.images.push({ image: image.image, policy: describePolicy(image.policy), snapshots });
      }
      report.push(out);
    }
    return report;
  }

  /** Annex 1's deleteImage on one node, refused with the reasons (retireBlockers) unless forced; forced, the reasons are audited. */
  async retireImage(node: string, image: string, busy: readonly BusySnapshot[], force: boolean): Promise<{ retired: string; overridden: string[] }> {
    imageName.parse(image);
    const host = await this.#host(node);
    const s = await this.o.settings.get(node, host.role);
    const source = await this.source();
    const repos = await this.repos(node === source ? undefined : [source, node]);
    if (!findImage(repos.find((r) => r.node === node), image)) throw new AppError('NOT_FOUND', `${node} has no ${image} in ${s.root}.`);
    const blockers = retireBlockers({ repos, source, node, image, carried: node !== source && carries(s, image) && !!findImage(repos.find((r) => r.node === source), image)?.snapshots.length, busy });
    if (blockers.length && !force) throw new AppError('CONFLICT', `${blockers.join('\n')}\nRetire it anyway with force.`, { blockers });
    const argv = retireImageArgv(`${s.root}/${image}`, host.role === 'imgs' ? `${s.workRoot}/${image}` : undefined);
    await this.#change(node, 'image.retire', argv, `Retiring ${image}`, blockers.length ? `forced past: ${blockers.join(' ')}` : undefined);
    return { retired: `${node}:${image}`, overridden: blockers };
  }

  async #context(nodes: readonly string[]): Promise<PlanContext> {
    const hosts = await this.o.getHosts();
    const facts = new Map<string, NodeFacts>();
    await Promise.all(
      nodes.map(async (name) => {
        const host = findHost(hosts, name);
        const [settings, repo, probe] = await Promise.all([
          this.o.settings.get(name, host.role),
          this.repo(name),
          this.#run(name, probeArgv(), 'Probing the tools', 30_000),
        ]);
        facts.set(name, { host, settings, repo, tools: parseProbe(probe.stdout) });
      }),
    );
    const links = new Map<string, ReturnType<PlanContext['link']>>();
    return {
      nodes: facts,
      relayAvailable: this.o.remote.pipesStdout,
      newId: () => randomUUID(),
      // Above the usual ephemeral ranges' start so a one-time listener rarely meets a busy port.
      tcpPort: () => randomInt(20_000, 61_000),
      estimate: (source, snapshot, parent) => this.estimate(source, snapshot, parent),
      compressor: (source) => this.#compressor(source),
      // A sync plans one push per image to the same receivers: each link is probed once per plan.
      link: (source, target, mode, compressor, probe = true) => {
        const key = `${source} ${target} ${mode} ${probe}`;
        const found = links.get(key) ?? this.#link(source, target, mode, compressor, probe);
        links.set(key, found);
        return found;
      },
      free: async (node, path) => {
        const r = await runText(this.o.remote, node, filesystemUsageArgv(path), { sudo: true, timeoutMs: 30_000 }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }));
        if (r.code !== 0) return { problem: lastText(r.stderr) || `exit code ${r.code}` };
        try {
          return { bytes: parseFilesystemUsage(r.stdout).freeBytes };
        } catch (err) {
          return { problem: (err as Error).message };
        }
      },
    };
  }

  /** zstd's speed on `node`; PERF-NOTES' figures when its benchmark cannot run. */
  #compressor(node: string): Promise<CompressorSpeed> {
    let speed = this.#compressors.get(node);
    if (!speed) {
      speed = runText(this.o.remote, node, compressorBenchArgv(), { timeoutMs: 30_000 })
        .then((r) => parseZstdBench(r.stdout) ?? ASSUMED_COMPRESSOR)
        .catch(() => ASSUMED_COMPRESSOR);
      this.#compressors.set(node, speed);
    }
    return speed;
  }

  /**
   * The link from `source` to `target`: the last long enough push in the history, else a probe
   * through the direct leg's ssh (tcp's stream takes the same network) unless told not to. Relay
   * goes through the console, which a probe on the source cannot time.
   */
  async #link(source: string, target: string, mode: TransferMode, compressor: CompressorSpeed, probe: boolean): Promise<LinkFact | { node: string; unknown: string }> {
    const known = linkFromHistory(await this.o.history(), { source, target, mode, compressor, now: Date.now() });
    if (known) return known;
    if (!probe) return { node: target, unknown: 'no recent push to it to go by' };
    if (mode === 'relay') return { node: target, unknown: 'a relay through the console, and no recent push to it to go by' };
    const leg = await this.#leg(target);
    try {
      const r = await runText(this.o.remote, source, linkProbeArgv((line) => sshArgv(leg, line)), { sudo: true, timeoutMs: 30_000 });
      const rate = parseLinkProbe(r.stdout);
      if (rate) return { node: target, rate, how: `probe: up to 2 s of ${LINK_PROBE_MIB} MiB of random data over ssh from ${source}` };
      return { node: target, unknown: `the probe from ${source} failed: ${lastText(r.stderr) || `exit code ${r.code}`}` };
    } catch (err) {
      return { node: target, unknown: `the probe from ${source} failed: ${(err as Error).message}` };
    }
  }

  /**
   * The send stream's size, measured on the source without reading file data; when it cannot
   * tell, the reason (the plan shows it: the monitor then has a rate but no percent or ETA).
   */
  async estimate(source: string, snapshot: string, parent: string | null): Promise<{ bytes: number } | { problem: string }> {
    try {
      const r = await runText(this.o.remote, source, estimateArgv(snapshot, parent), { sudo: true, timeoutMs: 600_000 });
      return parseEstimate(r.stdout, r.stderr);
    } catch (err) {
      return { problem: (err as Error).message };
    }
  }

  /** Where `node` is reached from the source over OpenSSH: what direct mode's legs use. */
  async #leg(node: string): Promise<AccessTarget> {
    const host = await this.#host(node);
    const { replicationAddress, root } = await this.o.settings.get(node, host.role);
    return { node, address: replicationAddress ?? host.address, user: host.user, sshPort: host.port, wrapperId: receiveWrapperId(root) };
  }

  /** Direct mode only: each receiver the source cannot ssh to, checked at once (the transfer then reuses the connection). */
  async #access(req: { source: string; mode: TransferMode }, targets: readonly string[]): Promise<Map<string, AccessProblem> | undefined> {
    if (req.mode !== 'direct') return undefined;
    const found = await Promise.all(targets.filter((t) => t !== req.source).map(async (t) => checkAccess(this.o.remote, req.source, await this.#leg(t))));
    return new Map(found.filter((p) => p !== undefined).map((p) => [p.node, p]));
  }

  async #planContext(req: { source: string; mode: TransferMode }, targets: readonly string[]): Promise<PlanContext> {
    const [ctx, access] = await Promise.all([this.#context([req.source, ...targets]), this.#access(req, targets)]);
    return access ? { ...ctx, access } : ctx;
  }

  async planPush(req: PushRequest): Promise<PlannedPush> {
    return planPush(req, await this.#planContext(req, req.targets));
  }

  async setupKeys(from: string, to: readonly string[]): Promise<SetupKeysResult[]> {
    if (to.includes(from)) throw new AppError('INVALID_INPUT', `${from} is the source; it does not ssh to itself.`);
    await this.#host(from);
    const targets = await Promise.all([...new Set(to)].map((t) => this.#leg(t)));
    return setupKeys({ remote: this.o.remote, source: from, targets, trust: this.o.trust });
  }

  async planSync(req: { source?: string | undefined; targets?: readonly string[] | undefined; mode: TransferMode; compression: CodecRequest; limitRate?: number | undefined }) {
    const source = req.source ?? (await this.source());
    const hosts = await this.o.getHosts();
    const targets = req.targets ?? hosts.filter((h) => h.role === 'cache' && h.name !== source).map((h) => h.name);
    return planSync({ ...req, source, targets }, await this.#planContext({ source, mode: req.mode }, targets));
  }
}
