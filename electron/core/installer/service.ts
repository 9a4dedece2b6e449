import { randomUUID } from 'node:crypto';
import { parseOsRelease } from '../../../shared/distro.ts';
import { AppError, toWire } from '../../../shared/errors.ts';
import { findHost, type Host } from '../../../shared/inventory.ts';
import {
  cacheAddress, cacheNumberOf, guideClientSubnet, GUIDE_HOST_PART, installRequest, networkOf,
  requestOf, type InstallDisks, type InstallPlanOut, type InstallRequest, type InstallRun, type InstallSettings, type InstallState, type TrustPlanOut, type WizardStage,
} from '../../../shared/install.ts';
import type { AuditRecord } from '../audit/log.ts';
import type { JobContext } from '../jobs/jobs.ts';
import type { SshPool } from '../ssh/pool.ts';
import type { AuditEntry } from './apply.ts';
import { diskProblems, icbdFilesystem } from './disks.ts';
import { gather } from './gather.ts';
import { stepsFor, type InstallPlan } from './plan.ts';
import { bootId, waitForNewBoot } from '../remote/boot.ts';
import { hostRemote, type Remote } from '../remote/host.ts';
import { nodeRemote } from '../remote/node.ts';
import { readPeers, type ReplicationAddresses } from './peers.ts';
import { checkHost, install, rebootAndCheck, type InstallDeps } from './runner.ts';
import { busyWith, isLive, type Hold, type InstallStore, type Liveness, type Saved } from './saved-state.ts';
import type { InstallInput } from './step.ts';
import { preflightNotices } from './steps/system.ts';
import { applyPair, applyTrust, planTrust, trustNodes, type TrustDeps, type TrustPlan } from './trust.ts';
import { isAlive } from '../util/pids.ts';

/** The installer's view of one host: the node port over the pool, as root. */
const onHost = (pool: SshPool, host: string): Remote => hostRemote(nodeRemote(pool), host);

// The engine's plan is what crosses the boundary: this fails to compile if the two drift apart.
const wire = (p: InstallPlan): InstallPlanOut => p;
const wireTrust = (p: TrustPlan): TrustPlanOut => p;

/** A VM under software emulation takes minutes to come back; a container seconds. */
const REBOOT_TIMEOUT_MS = 10 * 60_000;

export interface InstallServiceDeps {
  pool(): Promise<SshPool>;
  hosts(): Promise<Host[]>;
  audit(record: AuditRecord): Promise<unknown>;
  store: InstallStore;
  /** Where direct replication reaches the host, when not at its inventory address (replication settings). */
  replicationAddress(host: Host): Promise<string | undefined>;
  /** The host's snapshot repository (replication settings): the only place its receive wrapper writes to. */
  repositoryRoot(host: Host): Promise<string>;
}

/**
 * The runs and holds this process has going, by id: a saved record of this pid whose id is not
 * here was left by an earlier process that had the same pid (saved-state.ts isLive).
 */
const live = new Set<string>();
const LIVENESS: Liveness = { pid: process.pid, ours: (id) => live.has(id), alive: isAlive };

/** Refusals name every busy node and what to do (the lines of busyWith). */
function busyError(what: string, busy: readonly string[]): AppError {
  return new AppError('CONFLICT', `${what} cannot start while ${busy.length === 1 ? 'a node it changes is' : 'nodes it changes are'} busy:\n${busy.join('\n')}\nThen try again.`, { busy });
}

export function inputOf(r: InstallRequest): InstallInput {
  return {
    host: r.host,
    role: r.role,
    platform: { ...r.platform, ...(r.role === 'cache' && r.cache ? { cacheClient: cacheAddress(r.cache.clientSubnet) } : {}) },
    nfs: r.nfs,
    ...(r.confirmDisk !== undefined && { confirmDisk: r.confirmDisk }),
  };
}

function toAudit(e: AuditEntry): AuditRecord {
  return {
    host: e.host,
    step: e.step,
    action: e.summary,
    result: e.result,
    ...(e.command !== undefined && { command: e.command }),
    ...(e.path !== undefined && { path: e.path }),
    ...(e.diff !== undefined && { diff: e.diff }),
    ...(e.backup !== undefined && { backup: e.backup }),
    ...(e.error !== undefined && { detail: e.error }),
  };
}

const MARK: Record<AuditEntry['result'], string> = { ok: 'ok    ', failed: 'FAILED', skipped: 'skip  ', undone: 'undone' };


/**
 * Check, plan, apply and reboot-and-verify over the SSH pool, with every change in the audit
 * log and each host's progress remembered (saved-state.ts). The jobs it runs are the core's.
 */
export class InstallService {
  constructor(private readonly d: InstallServiceDeps) {}

  async plan(r: InstallRequest): Promise<InstallPlanOut> {
    const plan = await checkHost(await this.#deps(r.host), await this.#input(r));
    await this.#checked(r.host, plan);
    return wire(plan);
  }

  /** The host's disks, each with why it may not be formatted, and the preflight's findings. */
  async disks(host: string): Promise<InstallDisks> {
    const h = await this.#host(host);
    const state = await gather(onHost(await this.d.pool(), host), { role: h.role });
    const fs = icbdFilesystem(state);
    return {
      distribution: parseOsRelease(state.osRelease).prettyName,
      preflight: preflightNotices(state),
      ...(fs && 'uuid' in fs ? { filesystem: fs.uuid } : {}),
      disks: state.devices
        // a container sees every disk of the machine in sysfs; only those with a node here are its own
        .filter((d) => (d.type === 'disk' || d.type === 'loop') && d.nodes.length > 0)
        .map((d) => ({ device: d.nodes.find((n) => !/\/loop\d+$/.test(n)) ?? d.nodes[0] ?? `/dev/${d.kname}`, nodes: d.nodes, size: d.size, type: d.type, fstype: d.fstype, problems: diskProblems(d, state.devices) })),
    };
  }

  async apply(r: InstallRequest, ctx: JobContext): Promise<InstallPlanOut> {
    return this.#run(r, 'apply', ctx, async (deps, input) => {
      const steps = stepsFor(input.role);
      const plan = await install(
        {
          ...deps,
          progress: ({ step, phase, plan }) => {
            const i = steps.findIndex((s) => s.id === step);
            const n = plan.changes.length;
            if (phase === 'applying') {
              ctx.progress(i / steps.length, `${plan.title}: ${n} change${n === 1 ? '' : 's'}`);
              ctx.log(`== ${plan.title}`);
              void this.#setRun(r.host, (run) => ({ ...run, step }));
            } else ctx.progress((i + 1) / steps.length, `${plan.title}: ${phase === 'done' ? 'done, verified' : 'nothing to do'}`);
          },
        },
        input,
      );
      ctx.progress(1, `${r.host} is installed as ${r.role} and verified: a check plans nothing.`);
      return plan;
    });
  }

  async reboot(r: InstallRequest, ctx: JobContext): Promise<InstallPlanOut> {
    return this.#run(r, 'reboot', ctx, async (deps, input) => {
      const pool = await this.d.pool();
      const before = await bootId(deps.remote);
      ctx.progress(0.1, `Rebooting ${r.host}`);
      return rebootAndCheck(deps, input, async () => {
        ctx.progress(0.3, `Waiting for ${r.host} to come back`);
        await waitForNewBoot(pool, r.host, before, { timeoutMs: REBOOT_TIMEOUT_MS, signal: ctx.signal });
        ctx.progress(0.8, `${r.host} is back; checking every mount and service`);
      });
    });
  }

  async state(host: string): Promise<InstallState> {
    const s = await this.d.store.read(host);
    if (!s) return { host, settings: await this.#propose(host), proposed: true };
    const run = s.run;
    if (run?.state === 'running' && !isLive(run, LIVENESS)) {
      const fixed = await this.#setRun(host, (x) => ({ ...x, state: 'interrupted' }));
      return { ...fixed, proposed: false };
    }
    return { ...s, proposed: false };
  }

  async remember(host: string, patch: { settings?: InstallSettings; stage?: WizardStage }): Promise<InstallState> {
    const proposed = await this.#propose(host);
    const s = await this.d.store.update(host, (old) => ({ ...(old ?? { host, settings: proposed }), ...patch }));
    return { ...s, proposed: false };
  }

  /**
   * Refuses a run on a host while another run or a trust job is at it, here or in another door,
   * so that the request fails at once; the run checks again as it starts (#run).
   */
  async ensureIdle(host: string): Promise<void> {
    const busy = await this.#busy([host]);
    if (busy.length) throw new AppError('CONFLICT', `${busy[0]}.`, { busy });
  }

  async #run(r: InstallRequest, kind: InstallRun['kind'], ctx: JobContext, body: (deps: InstallDeps, input: InstallInput) => Promise<InstallPlan>): Promise<InstallPlanOut> {
    const startedAt = Date.now();
    live.add(ctx.id);
    try {
      // Checked and marked under the host's lock: a trust job taking the host at the same moment gets one or the other.
      await this.d.store.update(r.host, (old, hold) => {
        const busy = busyWith(old, hold, LIVENESS);
        if (busy) throw new AppError('CONFLICT', `${r.host}: ${busy}.`, { busy: [`${r.host}: ${busy}`] });
        return {
          ...(old ?? { host: r.host }),
          settings: { role: r.role, platform: r.platform, nfs: r.nfs, ...(r.cache && { cache: r.cache }), ...(old?.settings.disk && { disk: old.settings.disk }), ...(r.confirmDisk && { disk: r.confirmDisk }) },
          run: { kind, jobId: ctx.id, state: 'running', startedAt, pid: process.pid },
        };
      });
      const deps: InstallDeps = {
        ...(await this.#deps(r.host)),
        signal: ctx.signal,
        audit: async (e) => {
          await this.d.audit(toAudit(e));
          ctx.log(`${MARK[e.result]} ${e.command ?? (e.path ? `write ${e.path}${e.backup ? ` (old one kept as ${e.backup})` : ''}` : e.summary)}${e.error ? `: ${e.error}` : ''}`);
        },
      };
      try {
        const plan = await body(deps, await this.#input(r));
        await this.#setRun(r.host, (run) => ({ ...run, state: 'done', endedAt: Date.now() }));
        await this.#checked(r.host, plan);
        return wire(plan);
      } catch (err) {
        const state = ctx.signal.aborted ? 'cancelled' : 'failed';
        await this.#setRun(r.host, (run) => ({ ...run, state, endedAt: Date.now(), error: toWire(err).message }));
        throw err;
      }
    } finally {
      live.delete(ctx.id);
    }
  }

  /** `node: why` for each of `hosts` that a run or a hold is at now. */
  async #busy(hosts: readonly string[]): Promise<string[]> {
    const found = await Promise.all(hosts.map(async (h) => {
      const why = busyWith(await this.d.store.read(h), await this.d.store.hold(h), LIVENESS);
      return why ? [`${h}: ${why}`] : [];
    }));
    return found.flat();
  }

  /**
   * Runs `fn` with every node in `hosts` held: refused (CONFLICT, naming each busy node) before
   * anything is changed when a run or another hold is at one of them; an install of a held node
   * is refused until the holds are let go, whatever happens in `fn`.
   */
  async #holding<T>(kind: Hold['kind'], id: string, what: string, hosts: readonly string[], fn: () => Promise<T>): Promise<T> {
    const nodes = [...new Set(hosts)].sort();
    const busy = await this.#busy(nodes);
    if (busy.length) throw busyError(what, busy);
    const hold: Hold = { kind, jobId: id, startedAt: Date.now(), pid: process.pid };
    const held: string[] = [];
    live.add(id);
    try {
      for (const h of nodes) {
        // under the host's lock: a run that started since the check above wins, and this is refused
        await this.d.store.setHold(h, (s, old) => {
          const why = busyWith(s, old, LIVENESS);
          if (why) throw busyError(what, [`${h}: ${why}`]);
          return hold;
        });
        held.push(h);
      }
      return await fn();
    } finally {
      await Promise.all(held.map((h) => this.d.store.setHold(h, (_, old) => (old?.jobId === id ? undefined : old))));
      live.delete(id);
    }
  }

  /** Dry run of the platform's trust (trust.ts). */
  async planTrust(): Promise<TrustPlanOut> {
    return wireTrust(await planTrust(await this.#trustDeps()));
  }

  /** Refuses trust at once while a node it would change is busy; the job checks again as it takes them. */
  async ensureTrustIdle(): Promise<void> {
    const busy = await this.#busy(await this.#trustNodes());
    if (busy.length) throw busyError('SSH trust between the nodes', busy);
  }

  async trust(ctx: JobContext): Promise<TrustPlanOut> {
    const after = await this.#holding('trust', ctx.id, 'SSH trust between the nodes', await this.#trustNodes(), async () => {
      ctx.progress(0.1, 'Reading every node\'s keys');
      return applyTrust(await this.#trustDeps(), {
        signal: ctx.signal,
        log: (line) => ctx.log(line),
        audit: async (e) => {
          await this.d.audit(toAudit(e));
          ctx.log(`${MARK[e.result]} ${e.command ?? (e.path ? `write ${e.path}${e.backup ? ` (old one kept as ${e.backup})` : ''}` : e.summary)}${e.error ? `: ${e.error}` : ''}`);
        },
      });
    });
    ctx.progress(1, after.notices.length ? `Trust set up; ${after.notices.length} node(s) left for later` : 'Every node trusts every other, as the guide\'s table says.');
    return wireTrust(after);
  }

  /**
   * Replication's node keys (replication.setupKeys): `source`'s replication key into each target,
   * for its receive wrapper alone (trust.ts applyPair), the nodes held meanwhile like trust holds them. A
   * node never installed here is taken with the settings its install would be proposed. Per
   * target, why it failed.
   */
  async trustPair(source: string, targets: readonly string[]): Promise<Map<string, string>> {
    return this.#holding('keys', randomUUID(), 'Setting up node keys', [source, ...targets], async () => {
      const d = await this.#trustDeps();
      const proposed = new Map(await Promise.all([source, ...targets].filter((h) => !d.settings(h)).map(async (h) => [h, await this.#propose(h)] as const)));
      const roots = await Promise.all(targets.map(async (node) => ({ node, root: await this.d.repositoryRoot(await this.#host(node)) })));
      return applyPair({ ...d, settings: (h) => d.settings(h) ?? proposed.get(h) }, source, roots, { audit: async (e) => void (await this.d.audit(toAudit(e))) });
    });
  }

  async #trustNodes(): Promise<string[]> {
    const [hosts, saved] = await Promise.all([this.d.hosts(), this.d.store.list()]);
    const settings = new Map(saved.map((s) => [s.host, s.settings]));
    return trustNodes({ hosts, settings: (host) => settings.get(host) });
  }

  async #trustDeps(): Promise<TrustDeps> {
    const [pool, hosts, saved] = await Promise.all([this.d.pool(), this.d.hosts(), this.d.store.list()]);
    const settings = new Map(saved.map((s) => [s.host, s.settings]));
    return {
      hosts,
      settings: (host) => settings.get(host),
      remote: (host) => onHost(pool, host),
      input: (host, s) => inputOf(installRequest.parse(requestOf(host, s))),
      replicationAddress: await this.#replicationAddresses(hosts),
    };
  }

  async #replicationAddresses(hosts: readonly Host[]): Promise<ReplicationAddresses> {
    const found = new Map(await Promise.all(hosts.map(async (h) => [h.name, await this.d.replicationAddress(h)] as const)));
    return (host) => found.get(host);
  }

  /** The request with every other inventory node as a peer, read through the pool now. */
  async #input(r: InstallRequest): Promise<InstallInput> {
    const [pool, hosts] = await Promise.all([this.d.pool(), this.d.hosts()]);
    return { ...inputOf(r), peers: await readPeers((h) => onHost(pool, h), hosts, r.host, r.platform, await this.#replicationAddresses(hosts)) };
  }

  async #deps(host: string): Promise<InstallDeps> {
    return { remote: onHost(await this.d.pool(), host), audit: async (e) => void (await this.d.audit(toAudit(e))) };
  }

  async #host(name: string): Promise<Host> {
    return findHost(await this.d.hosts(), name);
  }

  async #setRun(host: string, fn: (run: InstallRun) => InstallRun): Promise<Saved> {
    return this.d.store.update(host, (old) => {
      if (!old?.run) throw new AppError('INTERNAL', `${host}: no run to update.`);
      return { ...old, run: fn(old.run) };
    });
  }

  async #checked(host: string, plan: InstallPlan): Promise<void> {
    const settings = await this.#propose(host);
    await this.d.store.update(host, (old) => ({ ...(old ?? { host, settings }), lastCheck: { at: Date.now(), changes: plan.changes, blockers: plan.blockers.length } }));
  }

  /**
   * Settings for a host never installed here: its inventory role, the platform of the host last
   * installed, else one read from the inventory (the rw and home nodes' addresses, imgs at the
   * guide's .251 of their network). An address nothing tells is left empty for the operator.
   */
  async #propose(host: string): Promise<InstallSettings> {
    const hosts = await this.d.hosts();
    const role = hosts.find((h) => h.name === host)?.role ?? 'cache';
    const last = (await this.d.store.list()).find((s) => s.host !== host);
    const ip = (r: Host['role']) => hosts.find((h) => h.role === r && /^\d+\.\d+\.\d+\.\d+$/.test(h.address))?.address ?? '';
    const [data, home] = [ip('rw'), ip('home')];
    const net = data || home ? networkOf(`${data || home}/24`) : '';
    const platform = last?.settings.platform ?? { imgs: net ? net.replace(/\.0\/24$/, `.${GUIDE_HOST_PART}`) : '', home, data, clients: net };
    const number = cacheNumberOf(host) ?? 1;
    return { role, platform, nfs: true, ...(role === 'cache' && { cache: { number, clientSubnet: guideClientSubnet(number) } }) };
  }
}
