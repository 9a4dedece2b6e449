/**
 * The installer's file writes on a real host whose link is cut in the middle of a large write: the
 * file is the old one or the new one, never a part, both for a file replaced by rename and for one
 * written in place (a bind-mounted file or its source, which must keep its inode); and once the
 * node has noticed the dead session, no temp file is left beside it. The link to cache01 is slowed
 * to 16 Mbit/s at the switch so that the cut lands mid-write every time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { files, hostRemote } from '../../electron/core/remote/host.ts';
import { nodeRemote } from '../../electron/core/remote/node.ts';
import { labCut, labHeal } from '../../electron/core/lab/index.ts';
import { labNames } from '../../electron/core/lab/topology.ts';
import { labSession, labWithHosts } from './session.ts';

const lab = labSession('write', (core, dir) => labWithHosts(core, { dir, caches: 1 }), { timeout: 1_200_000 });
const execFileP = promisify(execFile);

const DIR = '/root/written';
const OLD = 'the file as it was\n';
// 16 MiB: about 8 s at the link's 16 Mbit/s.
const NEW = randomBytes(12 * 1024 * 1024).toString('base64');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Slows (or frees) every switch port of cache01: what the node receives crawls. */
async function slowLink(on: boolean): Promise<void> {
  const n = labNames(lab.info.slot);
  const { stdout } = await execFileP('ip', ['-n', n.switchNs, '-j', 'link', 'show']);
  for (const { ifname } of JSON.parse(stdout) as { ifname: string }[]) {
    if (!ifname.startsWith('cache01-')) continue;
    const args = on ? ['add', 'dev', ifname, 'root', 'tbf', 'rate', '16mbit', 'burst', '64kb', 'latency', '2s'] : ['del', 'dev', ifname, 'root'];
    await execFileP('tc', ['-n', n.switchNs, 'qdisc', ...args]);
  }
}

/** The sizes of the writer's temp files beside the targets, over the lab's own ssh. */
async function tempSizes(): Promise<number[]> {
  const out = await lab.ssh('cache01', `find ${DIR} -name '.icbd-*' -printf '%s\\n'`, 30_000);
  return out ? out.split('\n').map(Number) : [];
}

describe("the installer's file writes", () => {
  it('leave the file old or new, whole, renamed or in place, when the link is cut mid-write; no temp file stays', async () => {
    await lab.ssh('cache01', `mkdir -p ${DIR} && printf '%s' '${OLD}' > ${DIR}/renamed && printf '%s' '${OLD}' > ${DIR}/in-place`);
    const inode = await lab.ssh('cache01', `stat -c %i ${DIR}/in-place`);
    const remote = hostRemote(nodeRemote(await lab.core.ssh()), 'cache01');
    await slowLink(true);
    let ended: unknown[];
    try {
      const writes = [files.write(remote, `${DIR}/renamed`, NEW), files.write(remote, `${DIR}/in-place`, NEW, { inPlace: true })].map((p) => p.then(() => 'written', (e: Error) => e));
      await expect.poll(async () => (await tempSizes()).filter((s) => s > 1024 * 1024).length, { timeout: 60_000, interval: 200 }).toBe(2);
      // Plugged back a minute later, as cutWhileMoving does: long enough for the keepalives at both ends to give up.
      await labCut('cache01', { dir: lab.dir });
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      await labHeal('cache01', { dir: lab.dir });
      ended = await Promise.all(writes);
    } finally {
      await labHeal('cache01', { dir: lab.dir });
      await slowLink(false);
    }
    expect(ended.filter((e) => e instanceof Error).length, 'the cut must fail at least one write').toBeGreaterThan(0);
    const sums = (await lab.ssh('cache01', `sha256sum ${DIR}/renamed ${DIR}/in-place | cut -d' ' -f1`)).split('\n');
    // A write that failed left the old file; one that got through before the cut, the new one; never a part.
    expect(sums).toEqual(ended.map((e) => (e instanceof Error ? sha(OLD) : sha(NEW))));
    // The node's sshd gives up on the dead session and the writer's trap removes its copy.
    await expect.poll(tempSizes, { timeout: 120_000, interval: 2000 }).toEqual([]);
    expect(await lab.ssh('cache01', `stat -c %i ${DIR}/in-place`)).toBe(inode);
  }, 400_000);

  it('put the new file whole in place when the link holds, keeping the inode of one written in place', async () => {
    await lab.ssh('cache01', `mkdir -p ${DIR} && touch ${DIR}/renamed ${DIR}/in-place`);
    const inode = await lab.ssh('cache01', `stat -c %i ${DIR}/in-place`);
    const remote = hostRemote(nodeRemote(await lab.core.ssh()), 'cache01');
    await files.write(remote, `${DIR}/renamed`, NEW);
    await files.write(remote, `${DIR}/in-place`, NEW, { inPlace: true });
    const sums = await lab.ssh('cache01', `sha256sum ${DIR}/renamed ${DIR}/in-place | cut -d' ' -f1`);
    expect(sums.split('\n')).toEqual([sha(NEW), sha(NEW)]);
    expect(await lab.ssh('cache01', `stat -c %i ${DIR}/in-place`)).toBe(inode);
    expect(await tempSizes()).toEqual([]);
  });
});
