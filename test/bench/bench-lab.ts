/**
 * The benchmark's side of the lab: the image, the raw baselines (what an operator would type on
 * imgs), the app's pushes, and the resets between runs. Every run is timed the same way: from
 * the moment the runner asks for it to the receive verified on the cache (received_uuid = the
 * source's uuid), through connections that are already open.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Core } from '../../electron/core/core.ts';
import { buildPipeline } from '../../electron/core/replication/pipeline.ts';
import { quote } from '../../shared/shell.ts';
import { parseSubvolumeShow } from '../../shared/snapshots.ts';
import type { PushInput, TransferRecord } from '../../shared/transfers.ts';
import { isTransferFinished, pushInput } from '../../shared/transfers.ts';

export const ROOT = '/var/lib/icbd/.snap';
export const WORK = '/var/lib/icbd/shared-vms';
export const IMAGE = 'bench';
const LOCAL = '/var/lib/icbd/local-receive';

export class BenchLab {
  constructor(
    private readonly core: Core,
    /** Where imgs reaches each cache (what the app's plan uses too). */
    private readonly addresses: ReadonlyMap<string, string>,
    /** The image this lab's rows send (the site rows have one sized by time). */
    readonly image = IMAGE,
  ) {}

  async sh(node: string, script: string, ...args: string[]): Promise<string> {
    return (await (await this.core.ssh()).run(node, ['sh', '-c', script, 'sh', ...args], { timeoutMs: 900_000 })).stdout;
  }

  /**
   * The image as PERF-NOTES describes it: zeros, binaries from imgs's /usr (repeated if /usr is
   * smaller), random data, a third each, written once into the working subvolume.
   */
  async makeImage(mib: number): Promise<void> {
    await this.core.call('replication.addImage', { node: 'imgs', image: this.image });
    const third = Math.floor(mib / 3);
    await this.sh(
      'imgs',
      `set -e
f="$1/disk.img"
head -c "$2"M /dev/zero > "$f"
( while :; do find /usr -type f -size +32k -print0 | xargs -0 cat; done ) 2>/dev/null | head -c "$3"M >> "$f"
head -c "$4"M /dev/urandom >> "$f"
sync`,
      `${WORK}/${this.image}`,
      String(third),
      String(third),
      String(mib - 2 * third),
    );
    await this.core.call('replication.snapshot', { image: this.image });
  }

  /** Rewrites every 50th 64 KiB block with random data (2 % in place) and snapshots again; returns the bytes changed. */
  async changeTwoPercent(mib: number): Promise<number> {
    const blocks = Math.floor((mib * 16) / 50);
    await this.sh(
      'imgs',
      `set -e
i=0
while [ $i -lt "$2" ]; do dd if=/dev/urandom of="$1/disk.img" bs=64K count=1 seek=$((i * 50)) conv=notrunc status=none; i=$((i + 1)); done
sync`,
      `${WORK}/${this.image}`,
      String(blocks),
    );
    await this.core.call('replication.snapshot', { image: this.image });
    return blocks * 65536;
  }

  async uuid(node: string, path: string): Promise<{ uuid: string; receivedUuid: string | null }> {
    return parseSubvolumeShow(await this.sh(node, 'btrfs subvolume show --raw "$1"', path));
  }

  async streamBytes(number: number, parent?: number): Promise<number> {
    const p = parent === undefined ? [] : ['-p', `${ROOT}/${this.image}/${parent}`];
    return Number((await this.sh('imgs', `btrfs send -q ${p.map(quote).join(' ')} "$1" | wc -c`, `${ROOT}/${this.image}/${number}`)).trim());
  }

  /** Deletes what a run received (and waits for btrfs to clean it), then empties the page cache. */
  async reset(nodes: readonly string[], number: number): Promise<void> {
    // filesystem sync wakes btrfs's cleaner: subvolume sync alone waits for the next periodic commit (≈ 30–60 s here).
    const drop = `p="$1"; [ -e "$p" ] && btrfs -q subvolume delete "$p"; btrfs -q filesystem sync /var/lib/icbd; btrfs subvolume sync /var/lib/icbd >/dev/null; true`;
    await Promise.all(nodes.map((n) => this.sh(n, drop, `${ROOT}/${this.image}/${number}`)));
    await this.sh('imgs', drop, `${LOCAL}/${number}`);
    // One kernel for the whole lab: this empties the machine's page cache, every lab's.
    execFileSync('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
  }

  async #verified(node: string, path: string, sentUuid: string): Promise<void> {
    const got = await this.uuid(node, path);
    if (got.receivedUuid !== sentUuid) throw new Error(`${node}:${path} has received_uuid ${got.receivedUuid}, not ${sentUuid}`);
  }

  /** `btrfs send [-p] | ssh [ssh options] cache btrfs receive` typed on imgs, then the same check the app makes. */
  async raw(target: string, number: number, sshOptions: readonly string[], parent?: number): Promise<number> {
    const sent = (await this.uuid('imgs', `${ROOT}/${this.image}/${number}`)).uuid;
    const p = parent === undefined ? '' : `-p ${quote(`${ROOT}/${this.image}/${parent}`)} `;
    const t0 = performance.now();
    await this.sh(
      'imgs',
      `set -e; btrfs send -q ${p}"$1" | ssh -T -x -o BatchMode=yes ${sshOptions.map(quote).join(' ')} "root@$2" "mkdir -p $3 && btrfs receive $3"`,
      `${ROOT}/${this.image}/${number}`,
      this.addresses.get(target)!,
      `${ROOT}/${this.image}`,
    );
    await this.#verified(target, `${ROOT}/${this.image}/${number}`, sent);
    return (performance.now() - t0) / 1000;
  }

  /** The app's fan-out by hand: `send | zstd | tee` into one `ssh -c aes128-gcm cache 'zstd -d | btrfs receive'` per cache. */
  async rawFanOut(targets: readonly string[], number: number): Promise<number> {
    const sent = (await this.uuid('imgs', `${ROOT}/${this.image}/${number}`)).uuid;
    const dir = `${ROOT}/${this.image}`;
    const legs = targets.map((t, k) => `ssh -T -x -o BatchMode=yes -c aes128-gcm@openssh.com root@${this.addresses.get(t)!} ${quote(`mkdir -p ${dir} && zstd -d -q -c | btrfs receive ${dir}`)} < /tmp/bench-fan/${k} &`);
    const t0 = performance.now();
    await this.sh(
      'imgs',
      [
        'set -e; rm -rf /tmp/bench-fan; mkdir /tmp/bench-fan',
        `mkfifo ${targets.map((_, k) => `/tmp/bench-fan/${k}`).join(' ')}`,
        ...legs,
        `btrfs send -q "$1" | zstd -1 -q -c | tee ${targets.map((_, k) => `/tmp/bench-fan/${k}`).join(' ')} > /dev/null`,
        'wait',
      ].join('\n'),
      `${ROOT}/${this.image}/${number}`,
    );
    for (const t of targets) await this.#verified(t, `${ROOT}/${this.image}/${number}`, sent);
    return (performance.now() - t0) / 1000;
  }

  /** `btrfs send | btrfs receive` on imgs itself: the machine's limit with no network or cipher. */
  async local(number: number): Promise<number> {
    const sent = (await this.uuid('imgs', `${ROOT}/${this.image}/${number}`)).uuid;
    const t0 = performance.now();
    await this.sh('imgs', 'set -e; mkdir -p "$2"; btrfs send -q "$1" | btrfs receive "$2"', `${ROOT}/${this.image}/${number}`, LOCAL);
    await this.#verified('imgs', `${LOCAL}/${number}`, sent);
    return (performance.now() - t0) / 1000;
  }

  /**
   * A push through the core as the doors make it, timed to the transfer's `done` (which the app
   * reports only after verifying each receiver). With `meter: false` the same plan runs with its
   * pipeline rebuilt without its meter: the app's transfer minus its progress monitor. `during` sees
   * each update of its transfers.
   */
  async app(input: PushInput, o: { meter?: boolean; during?: (r: TransferRecord) => void } = {}): Promise<{ seconds: number; records: TransferRecord[] }> {
    const ended = new Map<string, TransferRecord>();
    let ids: Set<string> | undefined;
    let resolve!: () => void;
    const all = new Promise<void>((r) => (resolve = r));
    const check = () => ids && [...ids].every((id) => ended.has(id)) && resolve();
    const off = this.core.on('transfer.update', (r) => {
      if (ids?.has(r.id)) o.during?.(r);
      if (isTransferFinished(r.state)) ended.set(r.id, r);
      check();
    });
    try {
      const t0 = performance.now();
      if (o.meter === false) {
        const stack = await this.core.replication();
        const planned = await stack.replication.planPush(pushInput.parse(input));
        for (const g of planned.groups) {
          g.spec = { ...g.spec, meter: false };
          g.commands = buildPipeline(g.spec);
        }
        ids = new Set((await stack.transfers.enqueue(planned)).map((t) => t.id));
      } else ids = new Set((await this.core.call('replication.push', input)).transfers.map((t) => t.id));
      check();
      await all;
      const seconds = (performance.now() - t0) / 1000;
      const records = [...ids].map((id) => ended.get(id)!);
      const bad = records.find((r) => r.state !== 'done');
      if (bad) throw new Error(`transfer ${bad.id} ${bad.state}: ${bad.error?.message ?? ''}`);
      if (records.length === 0) throw new Error(`nothing to push: ${JSON.stringify(input)}`);
      return { seconds, records };
    } finally {
      off();
    }
  }

  async sum(node: string, path: string): Promise<string> {
    return (await this.sh(node, 'sha256sum "$1"/disk.img | cut -d" " -f1', path)).trim();
  }
}
