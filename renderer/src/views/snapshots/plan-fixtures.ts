import type { PushPlan, TransferGroup } from '../../../../shared/transfers.ts';

/** For specs: push plans as the core sends them, with only what a spec cares about spelt out. */

export const group = (targets: string[], o: Partial<TransferGroup> = {}): TransferGroup => ({
  kind: 'full',
  parent: null,
  targets,
  codec: 'zstd',
  estimatedBytes: 900 * 2 ** 20,
  commands: [],
  ...o,
});

export const pushPlan = (o: Partial<PushPlan> = {}): PushPlan => ({
  source: 'imgs',
  image: 'win10',
  number: 3,
  uuid: '3b0a9d36-5a1e-4b7e-9b1c-2a4f0c7d9e11',
  mode: 'direct',
  encrypted: true,
  groups: [],
  skipped: [],
  warnings: [],
  ...o,
});

/** What the planner says about a receiver whose login the source's root lacks (keys.ts describeProblem). */
export const noKey = (node: string) => ({
  node,
  reason: `imgs's root has no key ${node} accepts (root@${node}: Permission denied (publickey).): set up node keys to fix it.`,
});
