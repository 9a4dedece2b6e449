import { join } from 'node:path';
import { REPO_ROLES, type Host } from '../../../shared/inventory.ts';
import type { DiskUse, Overview } from '../../../shared/overview.ts';
import type { ScheduleView } from '../../../shared/schedules.ts';
import type { NodeRepo } from '../../../shared/snapshots.ts';
import type { HealthMonitor } from '../ssh/health.ts';
import type { ReplicationStack } from '../transfers/stack.ts';
import { readFileIfExists, writeFileAtomic } from '../util/files.ts';
import { buildOverview } from './overview.ts';

export interface OverviewService {
  get(): Promise<Overview>;
  /**
   * The operator has seen the failures up to `at` (the overview they looked at, so a failure that
   * came after it is not swallowed); the next overview shows only newer ones.
   */
  ack(at?: number): Promise<{ lastLook: number }>;
}

const MARKER = 'overview-seen.json';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Reads what the overview shows: health as the monitor has it (probed now for hosts it has not
 * checked yet, as in a CLI run), each repository node's listing and btrfs usage in parallel (a
 * node that cannot be read says why and hides nothing else), the transfers, and the marker.
 */
export function openOverview(o: { home: string; getHosts(): Promise<Host[]>; health(): Promise<HealthMonitor>; stack(): Promise<ReplicationStack>; schedules(): Promise<readonly ScheduleView[]> }): OverviewService {
  const markerPath = join(o.home, MARKER);
  const lastLook = async () => {
    const text = await readFileIfExists(markerPath);
    // A marker that is not ours to read counts as never acknowledged: more failures shown, none hidden.
    try {
      const at = text ? (JSON.parse(text) as { lastLook?: unknown } | null)?.lastLook : undefined;
      return typeof at === 'number' ? at : null;
    } catch {
      return null;
    }
  };

  return {
    async get() {
      const [hosts, monitor, stack, seen] = await Promise.all([o.getHosts(), o.health(), o.stack(), lastLook()]);
      const checked = new Set(monitor.snapshot().filter((h) => h.checkedAt !== null).map((h) => h.host));
      if (hosts.some((h) => !checked.has(h.name))) await monitor.refresh();
      const repoHosts = hosts.filter((h) => REPO_ROLES.has(h.role));
      const up = new Set(monitor.snapshot().filter((h) => h.state === 'up').map((h) => h.host));
      const read = await Promise.all(
        repoHosts.map(async (h) => {
          // A host the monitor finds down would only add a connect timeout to the morning's first look.
          if (!up.has(h.name)) return { host: h, disk: { problem: `${h.name} is not up; its disk was not read.` } };
          const [repo, disk] = await Promise.all([
            stack.replication.repo(h.name).catch(() => undefined),
            stack.replication.diskUse(h.name).catch((err: unknown) => ({ problem: message(err) })),
          ]);
          return { host: h, repo, disk };
        }),
      );
      const settings = await Promise.all(repoHosts.map(async (h) => [h.name, await stack.settings.get(h.name, h.role)] as const));
      return buildOverview({
        now: Date.now(),
        lastLook: seen,
        hosts,
        health: monitor.snapshot(),
        repos: read.flatMap((r): NodeRepo[] => ('repo' in r && r.repo ? [r.repo] : [])),
        disks: new Map<string, DiskUse | { problem: string }>(read.map((r) => [r.host.name, r.disk])),
        settings: new Map(settings),
        transfers: await stack.transfers.list(),
        schedules: await o.schedules(),
      });
    },
    async ack(at) {
      const lastLook = Math.min(at ?? Date.now(), Date.now());
      await writeFileAtomic(markerPath, `${JSON.stringify({ lastLook })}\n`);
      return { lastLook };
    },
  };
}
