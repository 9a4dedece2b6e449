import { describe, expect, it } from 'vitest';
import type { Host } from '../../../../shared/inventory.ts';
import { defaultRepoSettings, type NodeRepo, type Snapshot } from '../../../../shared/snapshots.ts';
import { parseProbe } from '../../../../electron/core/replication/commands.ts';
import { ASSUMED_COMPRESSOR } from '../../../../electron/core/replication/link-codec.ts';
import { planPush, planSync, type NodeFacts, type PlanContext } from '../../../../electron/core/replication/planner.ts';

const u = (n: number, node = 0) => `${String(n).padStart(8, '0')}-0000-4000-8000-${String(node).padStart(12, '0')}`;
const ROOT = '/var/lib/icbd/.snap';

function snap(image: string, number: number, uuid: string, receivedUuid: string | null = null): Snapshot {
  return { image, number, path: `${ROOT}/${image}/${number}`, uuid, parentUuid: null, receivedUuid, readOnly: true, createdAt: 0, generation: number, referencedBytes: null, exclusiveBytes: null };
}
function facts(name: string, role: Host['role'], images: Record<string, Snapshot[]>, tools = 'btrfs zstd lz4 gzip tee socat', settings = {}): NodeFacts {
  const repo: NodeRepo = { node: name, role, root: ROOT, exists: true, images: Object.entries(images).map(([n, s]) => ({ name: n, snapshots: s })), problems: [] };
  const probe = `${tools.split(' ').map((t) => `icbd:tool ${t}`).join('\n')}\nicbd:tee-p\n`;
  return { host: { name, address: `${name}.icbd.local`, port: 22, user: 'root', role }, settings: { ...defaultRepoSettings(role), ...settings }, repo, tools: parseProbe(probe) };
}

// imgs has img1@1..3 and img2@1; cache01 has img1@1 and @2 (copies), cache02 img1@1, cache03 nothing,
// cache04 a diverged img1@3, cache05 carries only img2.
const imgs = facts('imgs', 'imgs', { img1: [snap('img1', 1, u(1)), snap('img1', 2, u(2)), snap('img1', 3, u(3))], img2: [snap('img2', 1, u(21))] });
const c1 = facts('cache01', 'cache', { img1: [snap('img1', 1, u(1, 1), u(1)), snap('img1', 2, u(2, 1), u(2))] });
const c2 = facts('cache02', 'cache', { img1: [snap('img1', 1, u(1, 2), u(1))] });
const c3 = facts('cache03', 'cache', {}, 'btrfs gzip tee');
const c4 = facts('cache04', 'cache', { img1: [snap('img1', 2, u(2, 4), u(2)), snap('img1', 3, u(99, 4))] });
const c5 = facts('cache05', 'cache', {}, 'btrfs zstd', { images: ['img2'] });

let ids = 0;
const ctx = (over: Partial<PlanContext> = {}): PlanContext => ({
  nodes: new Map([imgs, c1, c2, c3, c4, c5].map((f) => [f.host.name, f])),
  relayAvailable: true,
  newId: () => `t-${++ids}-aaaaaaaa`,
  tcpPort: () => 40000,
  estimate: async (_s, _snap, parent) => ({ bytes: parent ? 1000 : 50000 }),
  compressor: async () => ASSUMED_COMPRESSOR,
  // A 100 Mbit/s site link unless a test says otherwise.
  link: async (_s, node) => ({ node, rate: 12.5e6, how: 'probe' }),
  free: async () => ({ bytes: 2 ** 40 }),
  ...over,
});
const push = (targets: string[], more = {}) => planPush({ source: 'imgs', targets, image: 'img1', mode: 'direct', compression: 'auto', ...more }, ctx());

describe('push plan', () => {
  it('groups receivers by parent: one stream per group, full when nothing is common', async () => {
    const { plan } = await push(['cache01', 'cache02', 'cache03']);
    expect(plan.number).toBe(3);
    expect(plan.groups.map((g) => [g.kind, g.parent?.number ?? null, g.targets])).toEqual([
      ['incremental', 2, ['cache01']],
      ['incremental', 1, ['cache02']],
      ['full', null, ['cache03']],
    ]);
    expect(plan.groups.map((g) => g.estimatedBytes)).toEqual([1000, 1000, 50000]);
    expect(plan.groups[0]?.commands[0]?.command).toContain(`btrfs send -q -p ${ROOT}/img1/2 ${ROOT}/img1/3`);
    expect(plan.groups[2]?.commands[0]?.command).toContain(`btrfs send -q ${ROOT}/img1/3`);
  });

  it('direct mode: receivers the source cannot log in to are skipped with the offer to set up keys', async () => {
    const access = new Map([
      ['cache02', { node: 'cache02', kind: 'key' as const, detail: 'root@cache02: Permission denied (publickey).' }],
      ['cache03', { node: 'cache03', kind: 'unreachable' as const, detail: 'ssh: connect to host cache03 port 22: No route to host' }],
    ]);
    const direct = await planPush({ source: 'imgs', targets: ['cache01', 'cache02', 'cache03'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx({ access }));
    expect(direct.plan.groups.map((g) => g.targets)).toEqual([['cache01']]);
    expect(direct.plan.setupKeys).toEqual({ from: 'imgs', to: ['cache02'] });
    expect(direct.plan.skipped.map((s) => s.reason)).toEqual([
      "imgs's root has no key cache02 accepts (root@cache02: Permission denied (publickey).): set up node keys to fix it.",
      "imgs's root cannot reach cache03 (ssh: connect to host cache03 port 22: No route to host).",
    ]);
    const relay = await planPush({ source: 'imgs', targets: ['cache02'], image: 'img1', mode: 'relay', compression: 'auto' }, ctx({ access }));
    expect(relay.plan.setupKeys).toBeUndefined();
    expect(relay.plan.groups).toHaveLength(1);
  });

  it('a fan-out: receivers sharing a parent read one stream', async () => {
    const two = facts('cache06', 'cache', { img1: [snap('img1', 1, u(1, 6), u(1))] });
    const { plan } = await planPush({ source: 'imgs', targets: ['cache02', 'cache06'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx({ nodes: new Map([imgs, c2, two].map((f) => [f.host.name, f])) }));
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]?.targets).toEqual(['cache02', 'cache06']);
    expect(plan.groups[0]?.commands[0]?.purpose).toBe('send once to every receiver');
    expect(plan.groups[0]?.commands[0]?.command).toMatch(/tee -p/);
  });

  it('skips, with the reason: already there, diverged, not carried', async () => {
    const { plan } = await push(['cache04', 'cache05']);
    expect(plan.groups).toEqual([]);
    expect(plan.skipped).toEqual([
      { node: 'cache04', reason: expect.stringMatching(/has a different img1@3 \(diverged/) },
      { node: 'cache05', reason: expect.stringMatching(/does not carry img1/) },
    ]);
    const older = await push(['cache01'], { number: 2 });
    expect(older.plan.skipped[0]?.reason).toBe('cache01 already has img1@2.');
  });

  it('auto: zstd at a level for a slow link, none where the link outruns the compressor, the slowest receiver of a fan-out decides', async () => {
    const slow = (await push(['cache01'])).plan.groups[0]!;
    expect([slow.codec, slow.codecLevel]).toEqual(['zstd', 3]);
    expect(slow.codecReason).toBe('zstd -3: link to cache01 measured 100 Mbit/s (probe); imgs compresses 572 MiB/s at zstd -3 (assumed).');
    expect(slow.commands.at(-1)?.command).toContain('zstd -3 -q -c');

    const fast = (await planPush({ source: 'imgs', targets: ['cache01'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx({ link: async (_s, node) => ({ node, rate: 1.2e9, how: 'probe' }) }))).plan.groups[0]!;
    expect([fast.codec, fast.codecLevel]).toEqual(['none', undefined]);
    expect(fast.codecReason).toMatch(/^none: link to cache01 measured 9\.6 Gbit\/s/);
    expect(fast.commands.at(-1)?.command).not.toContain('zstd');

    const two = facts('cache06', 'cache', { img1: [snap('img1', 1, u(1, 6), u(1))] });
    const fanOut = await planPush(
      { source: 'imgs', targets: ['cache01', 'cache02', 'cache06'], image: 'img1', mode: 'direct', compression: 'auto' },
      ctx({ nodes: new Map([imgs, c1, c2, two].map((f) => [f.host.name, f])), link: async (_s, node) => ({ node, rate: node === 'cache06' ? 150e6 : 1.2e9, how: 'probe' }) }),
    );
    const group = fanOut.plan.groups.find((g) => g.targets.length === 2)!;
    expect([group.targets, group.codec, group.codecLevel]).toEqual([['cache02', 'cache06'], 'zstd', 1]);
    expect(group.codecReason).toMatch(/^zstd -1: link to cache06 measured 1\.2 Gbit\/s/);
  });

  it('auto with a link it cannot measure keeps zstd -1 and says why; an explicit codec is not second-guessed', async () => {
    const g = (await planPush({ source: 'imgs', targets: ['cache01'], image: 'img1', mode: 'relay', compression: 'auto' }, ctx({ link: async (_s, node) => ({ node, unknown: 'no history' }) }))).plan.groups[0]!;
    expect([g.codec, g.codecLevel, g.codecReason]).toEqual(['zstd', 1, 'zstd -1: the link to cache01 is not known (no history), so the default.']);
    // The link is still asked, for staging (a fast one would have auto choose none).
    const asked = (await planPush({ source: 'imgs', targets: ['cache01'], image: 'img1', mode: 'direct', compression: 'zstd' }, ctx({ link: async (_s, node) => ({ node, rate: 2e9, how: 'probe' }) }))).plan.groups[0]!;
    expect([asked.codec, asked.codecLevel, asked.codecReason]).toEqual(['zstd', undefined, undefined]);
  });

  it('the codec is common to the whole group, and a fallback is said', async () => {
    const { plan } = await push(['cache03'], { compression: 'zstd' });
    expect(plan.groups[0]?.codec).toBe('none');
    expect(plan.groups[0]?.codecNote).toMatch(/zstd was requested but zstd is missing on cache03/);
    expect((await push(['cache01'])).plan.groups[0]?.codec).toBe('zstd');
  });

  it('tcp: unencrypted, said so, receivers listen', async () => {
    await expect(push(['cache03'], { mode: 'tcp' })).resolves.toMatchObject({ plan: { skipped: [{ node: 'cache03', reason: expect.stringMatching(/no socat/) }] } });
    const { plan } = await push(['cache01'], { mode: 'tcp' });
    expect(plan.encrypted).toBe(false);
    expect(plan.warnings.join()).toMatch(/unencrypted/);
    expect(plan.groups[0]?.commands.map((c) => [c.host, c.purpose])).toEqual([['cache01', 'listen once and receive'], ['imgs', 'send']]);
  });

  it('refuses what cannot be done', async () => {
    await expect(push(['imgs'])).rejects.toThrow(/cannot also receive/);
    await expect(push(['nope'])).rejects.toThrow(/no node nope/);
    await expect(push(['cache01'], { number: 9 })).rejects.toThrow(/no img1@9/);
    await expect(planPush({ source: 'imgs', targets: ['cache01'], image: 'img1', mode: 'relay', compression: 'auto' }, ctx({ relayAvailable: false }))).rejects.toThrow(/Relay mode is not available/);
  });

  it('says why there is no size estimate, instead of a percent that never moves', async () => {
    const { plan } = await planPush(
      { source: 'imgs', targets: ['cache03'], image: 'img1', mode: 'direct', compression: 'auto' },
      ctx({ estimate: async () => ({ problem: 'btrfs send --no-data failed (exit 1): ERROR: not a read-only subvolume' }) }),
    );
    expect(plan.groups[0]?.estimatedBytes).toBeNull();
    expect(plan.warnings.join('\n')).toMatch(/No size estimate for img1@3 \(btrfs send --no-data failed.*\): the monitor will show the rate/);
  });

  it('measures progress on a source with no tool for it (the counters in /proc)', async () => {
    const bare = facts('imgs', 'imgs', imgs.repo.images.reduce((a, i) => ({ ...a, [i.name]: i.snapshots }), {}), 'btrfs zstd tee');
    const planned = await planPush({ source: 'imgs', targets: ['cache01'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx({ nodes: new Map([bare, c1].map((f) => [f.host.name, f])) }));
    expect(planned.plan.warnings).toEqual([]);
    expect(planned.groups[0]?.spec.meter).toBe(true);
  });
});

describe('sync plan', () => {
  it("brings each image's newest snapshot to every cache that carries and lacks it", async () => {
    const { plan } = await planSync({ source: 'imgs', targets: ['cache01', 'cache02', 'cache03', 'cache04', 'cache05'], mode: 'direct', compression: 'auto' }, ctx());
    const [one, two] = plan.pushes;
    expect(one?.image).toBe('img1');
    expect(one?.groups.flatMap((g) => g.targets)).toEqual(['cache01', 'cache02', 'cache03']);
    expect(one?.skipped.map((s) => s.node)).toEqual(['cache04']);
    expect(two?.image).toBe('img2');
    expect(two?.groups).toEqual([expect.objectContaining({ kind: 'full', targets: ['cache01', 'cache02', 'cache03', 'cache04', 'cache05'] })]);
    expect(plan.upToDate).toBe(false);
  });
  it('up to date when every cache has everything it carries', async () => {
    const full = facts('cache01', 'cache', { img1: c1.repo.images[0]!.snapshots.concat(snap('img1', 3, u(3, 1), u(3))) }, undefined, { images: ['img1'] });
    const { plan } = await planSync({ source: 'imgs', targets: ['cache01'], mode: 'direct', compression: 'auto' }, ctx({ nodes: new Map([imgs, full].map((f) => [f.host.name, f])) }));
    expect(plan).toEqual({ pushes: [], upToDate: true });
  });
});

describe('room before a push', () => {
  const GiB = 2 ** 30;
  // cache06 holds img1@1..3 copies minus the newest img1@3: keep 1 lets 1 go, 2 is the parent of the next push.
  const c6 = facts('cache06', 'cache', { img1: [snap('img1', 1, u(1, 6), u(1)), snap('img1', 2, u(2, 6), u(2))] }, undefined, { retention: { keep: 1 } });
  const roomy = (bytes: Record<string, number | string>): Partial<PlanContext> => ({
    nodes: new Map([imgs, c1, c3, c6].map((f) => [f.host.name, f])),
    estimate: async () => ({ bytes: GiB }),
    free: async (node) => (typeof bytes[node] === 'number' ? { bytes: bytes[node] } : { problem: String(bytes[node]) }),
  });

  it('a receiver without room for the stream and its headroom is skipped before anything is sent, naming what retention would free', async () => {
    const { plan, groups } = await planPush({ source: 'imgs', targets: ['cache03', 'cache06'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx(roomy({ cache03: 10 * GiB, cache06: GiB + 1 })));
    expect(groups.flatMap((g) => g.targets.map((t) => t.node))).toEqual(['cache03']);
    expect(plan.skipped).toEqual([{ node: 'cache06', reason: expect.stringMatching(/^cache06 has 1\.00 GiB free .* needs about 1\.00 GiB plus 115 MiB of headroom: nothing was sent\. Its retention policy would delete img1@1 \(/) }]);
  });

  it('a stream that fits within the headroom goes; free space unknown is a warning, not a refusal', async () => {
    const { plan } = await planPush({ source: 'imgs', targets: ['cache03', 'cache06'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx(roomy({ cache03: 'not btrfs', cache06: GiB + 116 * 2 ** 20 })));
    expect(plan.groups.flatMap((g) => g.targets).sort()).toEqual(['cache03', 'cache06']);
    expect(plan.warnings).toContain('The free space on cache03 is unknown (not btrfs): the push is not checked against it.');
  });

  it('a receiver with room for the stream twice stages it; with room for it once it receives without staging, and the plan says it cannot resume there', async () => {
    const { plan, groups } = await planPush({ source: 'imgs', targets: ['cache03', 'cache06'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx(roomy({ cache03: 3 * GiB, cache06: 1.5 * GiB })));
    expect(groups.flatMap((g) => g.targets.map((t) => [t.node, t.stagingPath]))).toEqual([
      ['cache03', expect.stringMatching(/^\/var\/lib\/icbd\/\.snap\/\.icbd-staging\/img1@3\.[0-9a-f-]+\.full\.stream$/)],
      ['cache06', undefined],
    ]);
    const [full, incremental] = plan.groups;
    expect(full!.staging).toMatch(/^cache03 keeps the stream as it arrives \(about 1\.00 GiB beside the snapshot, in \/var\/lib\/icbd\/\.snap\/\.icbd-staging\) so that a cut link or a restart resumes/);
    expect(incremental!.staging).toMatch(/^cache06 has 1\.50 GiB free: room for the snapshot but not for its staged stream beside it .*sends this push again from the start once it answers\.$/);
    // The receiving end is asked to stage nothing on cache06.
    expect(incremental!.commands.at(-1)!.command).toContain('/var/lib/icbd/.snap/img1/3 - 0 0');
  });

  it('a receiver behind a link faster than staging pays (or of a cap below it) stages only as the cap says; an unknown link stages', async () => {
    const links: Record<string, number | undefined> = { cache03: 250e6, cache06: undefined };
    const probes: (boolean | undefined)[] = [];
    const link: PlanContext['link'] = async (_s, node, _m, _c, probe) => {
      probes.push(probe);
      return links[node] === undefined ? { node, unknown: 'no history' } : { node, rate: links[node]!, how: 'history' };
    };
    const plan = (limitRate?: number) => planPush({ source: 'imgs', targets: ['cache03', 'cache06'], image: 'img1', mode: 'direct', compression: 'none', ...(limitRate ? { limitRate } : {}) }, ctx({ ...roomy({ cache03: 10 * GiB, cache06: 10 * GiB }), link }));
    const fast = await plan();
    expect(fast.groups.flatMap((g) => g.targets.map((t) => [t.node, t.stagingPath !== undefined]))).toEqual([
      ['cache03', false],
      ['cache06', true],
    ]);
    expect(fast.plan.groups[0]!.staging).toBe(
      "cache03's link measured 2.0 Gbit/s (history), faster than 500 Mbit/s: nothing is staged there, and a cut link or a restart of cache03 sends this push again from the start once it answers, about 4 s for 1.00 GiB.",
    );
    // Room for the stream once is enough where nothing is staged: no note of room.
    expect(fast.plan.groups[0]!.staging).not.toMatch(/free/);
    // A codec of the operator's own: the history is asked, no probe is made.
    expect(new Set(probes)).toEqual(new Set([false]));
    const capped = await plan(50e6);
    expect(capped.groups.flatMap((g) => g.targets.map((t) => t.stagingPath !== undefined))).toEqual([true, true]);
  });

  it('tcp stages nothing, and says so', async () => {
    const nodes = new Map([imgs, c3].map((f) => [f.host.name, { ...f, tools: { ...f.tools, tools: new Set([...f.tools.tools, 'socat']) } }]));
    const { plan, groups } = await planPush({ source: 'imgs', targets: ['cache03'], image: 'img1', mode: 'tcp', compression: 'none' }, ctx({ ...roomy({ cache03: 10 * GiB }), nodes }));
    expect(groups[0]!.targets[0]!.stagingPath).toBeUndefined();
    expect(plan.groups[0]!.staging).toMatch(/^tcp transport: nothing is staged/);
  });

  it('with nothing to prune it says to free space by hand', async () => {
    const { plan } = await planPush({ source: 'imgs', targets: ['cache03'], image: 'img1', mode: 'direct', compression: 'auto' }, ctx(roomy({ cache03: 0 })));
    expect(plan.groups).toEqual([]);
    expect(plan.skipped[0]?.reason).toMatch(/would delete nothing there: free space on it by hand/);
  });
});
