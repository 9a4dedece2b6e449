import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { activeTransfers, keysOffer, wireTree } from '../../../shared/replication.ts';
import type { NodeRepo } from '../../../shared/snapshots.ts';
import { isTransferFinished, type PushPlan, type TransferOrigin, type TransferRecord, type UploadRecord } from '../../../shared/transfers.ts';
import type { PlannedPush } from '../replication/planner.ts';
import type { ReplicationStack } from '../replication/stack.ts';
import { listSubvolumes } from '../replication/subvolumes.ts';
import { uploadDir } from '../transfers/upload.ts';
import type { Handlers } from './types.ts';

type ReplicationNames =
  | 'replication.repos'
  | 'replication.tree'
  | 'replication.subvolumes'
  | 'replication.addImage'
  | 'replication.snapshot'
  | 'replication.deleteSnapshot'
  | 'replication.planPush'
  | 'replication.push'
  | 'replication.planSync'
  | 'replication.sync'
  | 'replication.setupKeys'
  | 'replication.settings.get'
  | 'replication.settings.set'
  | 'transfers.list'
  | 'transfers.cancel'
  | 'transfers.log'
  | 'transfers.upload';

const REPO_ROLES: ReadonlySet<Host['role']> = new Set(['imgs', 'cache']);

/**
 * Replication and transfers. A push or sync is always planned again here from the nodes' state
 * as it is now: a plan the client shows is for reading, never executed as sent.
 */
export function replicationHandlers(stack: () => Promise<ReplicationStack>, getHosts: () => Promise<Host[]>): Handlers<ReplicationNames> {
  const host = async (name: string) => {
    const h = (await getHosts()).find((x) => x.name === name);
    if (!h) throw new AppError('NOT_FOUND', `There is no host named ${name} in the inventory.`);
    return h;
  };
  const repoHosts = async () => (await getHosts()).filter((h) => REPO_ROLES.has(h.role));

  /** The queue's per-node limits follow the settings as they are when a transfer is queued. */
  const enqueue = async (s: ReplicationStack, pushes: readonly PlannedPush[], origin: TransferOrigin | undefined): Promise<TransferRecord[]> => {
    const nodes = new Set(pushes.flatMap((p) => [p.plan.source, ...p.groups.flatMap((g) => g.wire.targets)]));
    for (const n of nodes) s.limits.set(n, (await s.settings.get(n, (await host(n)).role)).maxTransfers);
    const records: TransferRecord[] = [];
    for (const p of pushes) records.push(...(await s.transfers.enqueue(p, origin)));
    return records;
  };

  /** A direct push to nodes the source cannot log in to would only fail in ssh: refuse it with the fix. */
  const refuseWithoutKeys = (plans: readonly PushPlan[]) => {
    const offer = keysOffer(plans);
    if (!offer) return;
    throw new AppError('CONFLICT', `${offer.reasons.map((r) => r.reason).join('\n')}\nSet up node keys from ${offer.from} to ${offer.to.join(', ')} (the plan's "Set up node keys", or --setup-keys), then push again.`, {
      setupKeys: { from: offer.from, to: offer.to },
    });
  };

  return {
    'replication.repos': async ({ nodes }) => (await stack()).replication.repos(nodes),
    'replication.tree': async () => {
      const s = await stack();
      const [source, hosts, records] = await Promise.all([s.replication.source(), repoHosts(), s.transfers.list()]);
      // One node down must not hide the others: its column says why it is empty.
      const repos = await Promise.all(
        hosts.map(
          async (h): Promise<NodeRepo> =>
            s.replication.repo(h.name).catch(async (err: unknown) => ({
              node: h.name,
              role: h.role,
              root: (await s.settings.get(h.name, h.role)).root,
              exists: false,
              images: [],
              problems: [`${h.name} could not be read: ${err instanceof Error ? err.message : String(err)}`],
            })),
        ),
      );
      return wireTree(repos, source, activeTransfers(records));
    },
    'replication.subvolumes': async ({ node }) => {
      const s = await stack();
      const h = await host(node);
      const { root, workRoot } = await s.settings.get(node, h.role);
      return listSubvolumes(s.remote, node, [root, workRoot, '/var/lib/icbd', '/var/lib', '/']);
    },
    'replication.addImage': async ({ node, image }) => (await stack()).replication.addImage(node, image),
    'replication.snapshot': async ({ node, image }) => {
      const s = await stack();
      const on = node ?? (await s.replication.source());
      // A snapshot taken now would keep the upload's half-written file, in its staging directory, for ever.
      const uploading = (await s.transfers.list()).find(
        (t): t is UploadRecord => t.operation === 'upload' && !isTransferFinished(t.state) && 'image' in t.into && t.into.image === image && t.targets.some((x) => x.node === on),
      );
      if (uploading) throw new AppError('CONFLICT', `${uploading.name} is still being uploaded into ${image} on ${on} (transfer ${uploading.id.slice(0, 8)}): snapshot it once the upload is done, or cancel the upload.`);
      return s.replication.createSnapshot(on, image);
    },
    'replication.deleteSnapshot': async ({ node, image, number, force }) => {
      await (await stack()).replication.deleteSnapshot(node, image, number, force);
      return { deleted: `${node}:${image}@${number}` };
    },
    'replication.planPush': async (input) => (await (await stack()).replication.planPush(input)).plan,
    'replication.push': async (input) => {
      const s = await stack();
      const planned = await s.replication.planPush(input);
      refuseWithoutKeys([planned.plan]);
      return { plan: planned.plan, transfers: await enqueue(s, [planned], input.origin) };
    },
    'replication.planSync': async (input) => (await (await stack()).replication.planSync(input)).plan,
    'replication.sync': async (input) => {
      const s = await stack();
      const { plan, pushes } = await s.replication.planSync(input);
      refuseWithoutKeys(plan.pushes);
      return { plan, transfers: await enqueue(s, pushes, input.origin) };
    },
    'replication.setupKeys': async ({ from, to }) => (await stack()).replication.setupKeys(from, to),
    'replication.settings.get': async ({ node }) => {
      const s = await stack();
      const hosts = node ? [await host(node)] : await repoHosts();
      return Promise.all(hosts.map(async (h) => ({ node: h.name, settings: await s.settings.get(h.name, h.role) })));
    },
    'replication.settings.set': async ({ node, settings }) => {
      const s = await stack();
      const h = await host(node);
      const merged = await s.settings.set(node, h.role, Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)));
      s.limits.set(node, merged.maxTransfers);
      return { node, settings: merged };
    },
    'transfers.list': async () => (await stack()).transfers.list(),
    'transfers.cancel': async ({ id }) => ({ cancelled: await (await stack()).transfers.cancel(id) }),
    'transfers.log': async ({ id }) => (await stack()).store.readLog(id),
    'transfers.upload': async (input) => {
      const s = await stack();
      const h = await host(input.node);
      const settings = await s.settings.get(h.name, h.role);
      s.limits.set(h.name, settings.maxTransfers);
      return s.transfers.upload({ ...input, dir: uploadDir(h.name, h.role, settings, input.into) });
    },
  };
}
