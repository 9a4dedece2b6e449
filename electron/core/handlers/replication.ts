import type { ReplicationStack } from '../transfers/stack.ts';
import type { Handlers } from './types.ts';

type ReplicationNames =
  | 'replication.repos'
  | 'replication.tree'
  | 'replication.snapshotInfo'
  | 'replication.measure'
  | 'replication.subvolumes'
  | 'replication.addImage'
  | 'replication.snapshot'
  | 'replication.deleteSnapshot'
  | 'replication.prune'
  | 'replication.retireImage'
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
  | 'transfers.resume'
  | 'transfers.upload';

/**
 * Replication and transfers: each request is one call of the replication stack
 * (transfers/stack.ts), which holds the policy (planning again, key refusal, limits, conflicts).
 */
export function replicationHandlers(stack: () => Promise<ReplicationStack>): Handlers<ReplicationNames> {
  return {
    'replication.repos': async ({ nodes }) => (await stack()).replication.repos(nodes),
    'replication.tree': async () => (await stack()).tree(),
    'replication.snapshotInfo': async ({ image, number }) => (await stack()).snapshotInfo(image, number),
    'replication.measure': async ({ node, image, number }) => (await stack()).replication.measure(node, image, number),
    'replication.subvolumes': async ({ node }) => (await stack()).subvolumes(node),
    'replication.addImage': async ({ node, image }) => (await stack()).replication.addImage(node, image),
    'replication.snapshot': async ({ node, image }) => (await stack()).snapshot(node, image),
    'replication.deleteSnapshot': async ({ node, image, number, force }) => {
      await (await stack()).replication.deleteSnapshot(node, image, number, force);
      return { deleted: `${node}:${image}@${number}` };
    },
    'replication.retireImage': async ({ node, image, force }) => (await stack()).retireImage(node, image, force),
    'replication.prune': async ({ node, dryRun }) => (await stack()).prune(node, dryRun),
    'replication.planPush': async (input) => (await (await stack()).replication.planPush(input)).plan,
    'replication.push': async (input) => (await stack()).push(input),
    'replication.planSync': async (input) => (await (await stack()).replication.planSync(input)).plan,
    'replication.sync': async (input) => (await stack()).sync(input),
    'replication.setupKeys': async ({ from, to }) => (await stack()).replication.setupKeys(from, to),
    'replication.settings.get': async ({ node }) => (await stack()).settingsOf(node),
    'replication.settings.set': async ({ node, settings }) =>
      (await stack()).setSettings(node, Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined))),
    'transfers.list': async () => (await stack()).transfers.list(),
    'transfers.cancel': async ({ id }) => ({ cancelled: await (await stack()).transfers.cancel(id) }),
    'transfers.log': async ({ id }) => (await stack()).store.readLog(id),
    'transfers.resume': async ({ id }) => (await stack()).resume(id),
    'transfers.upload': async (input) => (await stack()).upload(input),
  };
}
