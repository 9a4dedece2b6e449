import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { Core } from '../../electron/core/core.ts';
import { addLabHosts, trustLabHostKeys } from '../../electron/core/lab/inventory.ts';
import { labDown, labUp, sshRun, type LabInfo, type LabOptions } from '../../electron/core/lab/index.ts';
import { labNames, topology } from '../../electron/core/lab/topology.ts';
import type { Asker } from '../../electron/core/util/prompts.ts';
import { notYet, tempDirs } from '../temp-dirs.ts';

/**
 * What the lab-backed test files share: a lab of their own (in its own directory, so files can run
 * beside each other) whose hosts are in the core's inventory with their keys trusted, the CLI run
 * on the same data directory, and a shell on a host through the core's pool or the lab's own ssh.
 */

/** lab up, hosts added, keys trusted. */
export async function labWithHosts(core: Core, opts: Pick<LabOptions, 'dir' | 'caches' | 'nfs' | 'links'>): Promise<LabInfo> {
  const info = await labUp(opts);
  const { added } = await addLabHosts(core.inventory, info.hosts, info.identityFile);
  await trustLabHostKeys((await core.ssh()).knownHosts, info.knownHosts, info.hosts.filter((h) => added.includes(h.name)));
  return info;
}

export interface LabSession<T> {
  /** The core's data directory, which the CLI runs on too. */
  readonly home: string;
  /** The lab's directory, also in ICBD_LAB_DIR for the core's lab requests and the processes the test starts. */
  readonly dir: string;
  readonly core: Core;
  /** What the session's `up` answered. */
  readonly info: T;
  /** `icbd …` as the operator types it, on this data directory and lab; never throws. */
  readonly icbd: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  /** A script on a host through the core's pool, its arguments passed as $1… (never pasted into it); its stdout. */
  readonly sh: (node: string, script: string, ...args: string[]) => Promise<string>;
  /** A command on a host over the lab's own ssh, beside the app (to see what it did); see labSsh. */
  readonly ssh: (host: string, command: string, timeoutMs?: number) => Promise<string>;
}

// The lab's host keys are trusted as its hosts are added: whatever the core would ask is declined.
const DECLINE: Asker = { askHostKey: async () => false, askSecret: async () => undefined };

const execFileP = promisify(execFile);

/**
 * A test file's lab session, made when its tests start and taken down when they end (with the
 * directories: see tempDirs, which names them `icbd-NAME-lab-…` and `icbd-NAME-home-…`): a core
 * of the CLI's door on a data directory of its own, and the lab `up` brings up with it, within
 * `timeout`. A handle, live once the tests start.
 */
export function labSession<T = LabInfo>(name: string, up: (core: Core, dir: string) => Promise<T>, o: { timeout?: number; asker?: Asker } = {}): LabSession<T> {
  const dirs = tempDirs(name, ['lab', 'home']);
  let core: Core | undefined;
  let info: { up: T } | undefined;
  beforeAll(async () => {
    process.env.ICBD_LAB_DIR = dirs.lab;
    core = new Core({ home: dirs.home, door: 'cli', asker: o.asker ?? DECLINE });
    info = { up: await up(core, dirs.lab) };
  }, o.timeout);
  afterAll(async () => {
    if (!core) return;
    await core.close();
    await labDown({ dir: dirs.lab });
  }, 300_000);
  const session: LabSession<T> = {
    get home() {
      return dirs.home;
    },
    get dir() {
      return dirs.lab;
    },
    get core() {
      return core ?? notYet(`${name}'s core`);
    },
    get info() {
      return info ? info.up : notYet(`${name}'s lab`);
    },
    icbd: (...args) =>
      execFileP('node', ['electron/cli/icbd.mjs', '--home', dirs.home, ...args], { env: { ...process.env, ICBD_LAB_DIR: dirs.lab }, timeout: 300_000 }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      ),
    sh: async (node, script, ...args) => (await (await session.core.ssh()).run(node, ['sh', '-c', script, 'sh', ...args], { timeoutMs: 120_000 })).stdout,
    ssh: (host, command, timeoutMs) => labSsh(dirs.lab, host, command, timeoutMs),
  };
  return session;
}

/** A command on a host of the lab in `dir` over the lab's own ssh; its stdout, trimmed; throws on a non-zero exit. */
export async function labSsh(dir: string, host: string, command: string, timeoutMs = 120_000): Promise<string> {
  const r = await sshRun(dir, host, command, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

const ECHO_PEER = `require('node:net').createServer((c) => c.end(c.remoteAddress + '\\n')).listen(Number(process.argv[2]), process.argv[1], () => console.log('listening'));`;

/**
 * A machine on the lab's outside network (where imgs's NIC 1 is), in a namespace of the lab's own
 * (so `lab down` deletes it too), with no route beyond that network: it answers each connection with
 * the address it sees, and only connections from that network can be answered at all.
 */
export async function outsidePeer(slot: number): Promise<{ address: string; net: string; port: number; close: () => Promise<void> }> {
  const n = labNames(slot);
  const net = topology(slot, 1).outsideCidr;
  const address = net.replace(/0\/24$/, '20');
  const port = 7070;
  const ns = `${n.prefix}-peer`;
  const ip = (...args: string[]) => execFileP('ip', args);
  await ip('netns', 'add', ns);
  await ip('-n', n.switchNs, 'link', 'add', 'peer-eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  await ip('-n', n.switchNs, 'link', 'set', 'peer-eth0', 'master', 'outside', 'up');
  await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO_PEER, address, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`the outside peer exited (${code})`)));
  });
  return {
    address,
    net,
    port,
    close: async () => {
      child.kill();
      await ip('netns', 'del', ns);
    },
  };
}
