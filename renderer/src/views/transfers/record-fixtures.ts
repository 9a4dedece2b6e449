import type { PushRecord, UploadRecord } from '../../../../shared/transfers.ts';

/** For specs: a push of win10@3 from imgs to cache01, queued; `over` is what a spec is about. */
export const pushRecord = (over: Partial<PushRecord> = {}): PushRecord => ({
  operation: 'push',
  id: 'aaaaaaaa-1111',
  source: 'imgs',
  targets: [{ node: 'cache01', state: 'pending' }],
  image: 'win10',
  number: 3,
  mode: 'direct',
  kind: 'incremental',
  parentNumber: 2,
  codec: 'zstd',
  state: 'queued',
  bytes: 0,
  totalBytes: 1024 * 2 ** 20,
  rate: null,
  fraction: 0,
  etaSeconds: null,
  queuedAt: 1,
  ...over,
});

/** For specs: the operator's win10.qcow2 uploaded into win10's working subvolume on imgs, queued. */
export const uploadRecord = (over: Partial<UploadRecord> = {}): UploadRecord => ({
  operation: 'upload',
  id: 'cccccccc-3333',
  source: "the operator's machine (ws1)",
  targets: [{ node: 'imgs', state: 'pending' }],
  file: '/home/op/win10.qcow2',
  into: { image: 'win10' },
  dir: '/var/lib/icbd/shared-vms/win10',
  name: 'win10.qcow2',
  overwrite: false,
  state: 'queued',
  bytes: 0,
  totalBytes: 1000,
  rate: null,
  fraction: 0,
  etaSeconds: null,
  queuedAt: 1,
  ...over,
});
