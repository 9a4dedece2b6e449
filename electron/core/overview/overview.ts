import type { Host } from '../../../shared/inventory.ts';
import type { DiskUse, ImageLag, Overview, OverviewFailure, OverviewNode } from '../../../shared/overview.ts';
import { carries, findImage, identity, type NodeRepo, type RepoSettings } from '../../../shared/snapshots.ts';
import type { ScheduleView } from '../../../shared/schedules.ts';
import type { HostHealth } from '../../../shared/ssh.ts';
import { isTransferFinished, transferSubject, type TransferRecord } from '../../../shared/transfers.ts';
import { formatBytes } from '../../../shared/units.ts';

/** Below this share of free space a repository's disk is a failure: the next receive may not fit. */
const LOW_DISK_FRACTION = 0.1;

/** Everything the overview is made of, as read from the nodes and the data directory. */
export interface OverviewFacts {
  now: number;
  lastLook: number | null;
  hosts: readonly Host[];
  health: readonly HostHealth[];
  /** The repository of each imgs and cache node that could be read. */
  repos: readonly NodeRepo[];
  /** Per repository node: its disk use, or why it could not be read. */
  disks: ReadonlyMap<string, DiskUse | { problem: string }>;
  settings: ReadonlyMap<string, Pick<RepoSettings, 'images'>>;
  transfers: readonly TransferRecord[];
  schedules: readonly ScheduleView[];
}

/**
 * The overview from its facts, without any I/O: the handler, the CLI and the window all show what
 * this returns. A cache is measured against imgs by snapshot identity, as the planner does, so a
 * same-numbered snapshot of another identity does not count as held.
 */
export function buildOverview(f: OverviewFacts): Overview {
  const source = f.hosts.find((h) => h.role === 'imgs')?.name ?? null;
  const healthOf = new Map(f.health.map((h) => [h.host, h]));
  const nodes = f.hosts.map((h): OverviewNode => {
    const health = healthOf.get(h.name);
    const disk = f.disks.get(h.name);
    return {
      host: h.name,
      role: h.role,
      state: health?.state ?? 'unknown',
      latencyMs: health?.latencyMs ?? null,
      disk: disk && !('problem' in disk) ? disk : null,
      diskProblem: disk && 'problem' in disk ? disk.problem : null,
    };
  });
  const active = f.transfers.filter((t) => !isTransferFinished(t.state));
  return {
    at: f.now,
    lastLook: f.lastLook,
    source,
    nodes,
    lag: source ? lagOf(f, source) : [],
    running: active.filter((t) => t.state !== 'queued'),
    queued: active.filter((t) => t.state === 'queued'),
    schedules: [...f.schedules],
    failures: [...hostFailures(f, nodes), ...diskFailures(nodes, f.now), ...transferFailures(f), ...scheduleFailures(f)].sort((a, b) => b.at - a.at),
  };
}

function lagOf(f: OverviewFacts, source: string): ImageLag[] {
  const repoOf = new Map(f.repos.map((r) => [r.node, r]));
  const sourceRepo = repoOf.get(source);
  const caches = f.hosts.filter((h) => h.role === 'cache');
  const images = sourceRepo?.images.map((i) => i.name) ?? [];
  return images.flatMap((image) => {
    const mine = (findImage(sourceRepo, image)?.snapshots ?? []).filter((s) => s.readOnly).sort((a, b) => b.number - a.number);
    const sourceNewest = mine[0]?.number ?? null;
    return caches
      .filter((c) => carries(f.settings.get(c.name) ?? { images: 'all' }, image))
      .map((c): ImageLag => {
        const repo = repoOf.get(c.name);
        if (!repo) return { image, cache: c.name, state: 'unknown', missing: 0, sourceNewest, newest: null, newestAt: null };
        const held = new Set((findImage(repo, image)?.snapshots ?? []).filter((s) => s.readOnly).map(identity));
        const index = mine.findIndex((s) => held.has(identity(s)));
        const newest = index < 0 ? undefined : mine[index];
        return {
          image,
          cache: c.name,
          state: !newest ? 'none' : index === 0 ? 'current' : 'behind',
          missing: index < 0 ? mine.length : index,
          sourceNewest,
          newest: newest?.number ?? null,
          newestAt: newest?.createdAt ?? null,
        };
      });
  });
}

function hostFailures(f: OverviewFacts, nodes: readonly OverviewNode[]): OverviewFailure[] {
  const healthOf = new Map(f.health.map((h) => [h.host, h]));
  return nodes.flatMap((n): OverviewFailure[] => {
    const h = healthOf.get(n.host);
    if (!h || (h.state !== 'down' && h.state !== 'untrusted')) return [];
    const message = h.lastError?.message ?? `${n.host} does not answer.`;
    const action =
      h.state === 'untrusted'
        ? 'Check the host key as the message says before trusting it; nothing is sent to the host until then.'
        : `Check that ${n.host} is on and reachable (\`icbd exec ${n.host} -- true\`); the console retries by itself and shows it up again once it answers.`;
    return [{ kind: 'host', subject: n.host, at: h.since, message, action }];
  });
}

function diskFailures(nodes: readonly OverviewNode[], now: number): OverviewFailure[] {
  return nodes.flatMap((n): OverviewFailure[] => {
    if (!n.disk || n.disk.sizeBytes === 0 || n.disk.freeBytes / n.disk.sizeBytes >= LOW_DISK_FRACTION) return [];
    return [
      {
        kind: 'disk',
        subject: n.host,
        at: now,
        message: `${n.host}'s repository filesystem has ${formatBytes(n.disk.freeBytes)} free of ${formatBytes(n.disk.sizeBytes)}: the next receive may not fit.`,
        action: `Delete snapshots ${n.host} no longer needs (the Snapshots view says which are parents of the next push), or grow its filesystem.`,
      },
    ];
  });
}

function transferFailures(f: OverviewFacts): OverviewFailure[] {
  return f.transfers.flatMap((t): OverviewFailure[] => {
    const at = t.endedAt ?? t.queuedAt;
    if (t.state !== 'failed' || (f.lastLook !== null && at <= f.lastLook)) return [];
    const to = t.targets.map((x) => x.node).join(', ');
    const why = t.error?.message ?? t.targets.find((x) => x.error)?.error ?? 'It failed without a message.';
    const again = t.operation === 'push' ? `push it again (\`icbd push ${t.source}:${t.image}@${t.number} --to ${t.targets.map((x) => x.node).join(',')}\`)` : 'upload it again';
    return [
      {
        kind: 'transfer',
        subject: `${transferSubject(t)} to ${to}`,
        at,
        message: why,
        action: `Read its log (Transfers view, or \`icbd transfers\` for its id), fix the cause, then ${again}.`,
      },
    ];
  });
}

/** A scheduled run that failed since the last look: nobody was at the console when it did. */
function scheduleFailures(f: OverviewFacts): OverviewFailure[] {
  return f.schedules.flatMap((s): OverviewFailure[] => {
    const run = s.lastRun;
    const at = run?.endedAt ?? run?.startedAt;
    if (!run || run.outcome !== 'failed' || at === undefined || (f.lastLook !== null && at <= f.lastLook)) return [];
    return [{ kind: 'schedule', subject: `schedule ${s.name}`, at, message: run.message, action: `Fix the cause, then run it again (\`icbd schedule run-now ${s.name}\`), or wait for its next run.` }];
  });
}
