import fs from 'node:fs';
import path from 'node:path';
import { ensureBase } from './base-image.ts';
import { cgroupDirs, killTree, processesOf, removeTree, waitGone } from './cgroup.ts';
import { detachDisk, freshDisk } from './disk.ts';
import { LabError } from './errors.ts';
import { runRaw, sleep } from './exec.ts';
import {
  consoleTail, type HostCtx, isRunning, mountRoot, mountsUnder, removeEmptyNspawnRun, startHost, stopHost, unmountAll, waitReady, wipeRoot,
} from './host.ts';
import { formatRate, parseLinkList, parseRate, setLinkRate } from './links.ts';
import { mirrorPaths, startMirror } from './mirror.ts';
import { createHostNetwork, createSwitch, destroyNetwork, isCut, labNamespaces, nsExists, setHostLinks } from './network.ts';
import { hostPaths, labDir, sshPaths } from './paths.ts';
import { preflight } from './preflight.ts';
import { ensureHostKey, ensureOperatorKey, sshRun, writeSshFiles } from './ssh-files.ts';
import { buildVmImage, createVmNetwork, NFS_VM_HOSTS, startVm, VM_PACKAGES } from './vm.ts';
import { raiseInotifyLimit } from './limits.ts';
import { findSlot, type LabState, readState, releaseSlot, removeState, reserveSlot, writeState } from './state.ts';
import type { Role } from '../../../shared/inventory.ts';
import { hostSpec, labNames, mirrorProxy, type Topology, topology } from './topology.ts';

export interface LabProgress {
  step: string;
  message: string;
  /** 0..1 over the whole operation */
  fraction?: number;
}

export interface LabHost {
  name: string;
  role: Role;
  /** What the app's inventory stores: imgs's outside address, or the internal one behind `jump`. */
  address: string;
  port: number;
  user: 'root';
  jump?: string;
  state: 'running' | 'stopped' | 'cut' | 'absent';
  /** Where the host's console (boot messages, emergency shell prompts) is written. */
  console: string;
  kind: 'nspawn' | 'qemu';
  /** The rate of the host's site link (links.ts), absent when unshaped. */
  link?: string;
}

export interface LabInfo {
  dir: string;
  slot: number;
  hosts: LabHost[];
  sshConfig: string;
  knownHosts: string;
  identityFile: string;
  /** The site mirror as imgs's apt sees it (the others go through imgs: see mirror.ts). */
  mirror: string;
  timings?: Record<string, number>;
}

export interface LabOptions {
  dir?: string;
  caches?: number;
  nfs?: boolean;
  /** Link rates to set once the hosts are up: `cache01=100mbit,imgs=1gbit` (links.ts). */
  links?: string;
  onProgress?: (p: LabProgress) => void;
  signal?: AbortSignal;
}

type DirOpts = Pick<LabOptions, 'dir' | 'onProgress'>;

interface Loaded {
  dir: string;
  st: LabState;
  topo: Topology;
  ctx: (name: string) => HostCtx;
}

function load(dir: string): Loaded | null {
  const st = readState(dir);
  if (!st || !st.base) return null;
  const topo = topology(st.slot, st.caches);
  return {
    dir,
    st,
    topo,
    ctx: (name) => {
      const spec = hostSpec(topo, name);
      const kind = st.hosts[name]?.kind ?? 'nspawn';
      return { dir, slot: st.slot, spec, kind, index: topo.hosts.indexOf(spec), base: kind === 'qemu' ? st.vmBase! : st.base };
    },
  };
}

function mustLoad(opts?: { dir?: string }): Loaded {
  const dir = labDir(opts?.dir);
  const l = load(dir);
  if (!l) throw new LabError(`no lab is up in ${dir}`, 'run `lab up` first (or pass the --dir it was started with)');
  return l;
}

export async function labPreflight(opts: { nfs?: boolean } = {}): Promise<{ ok: boolean; problems: { what: string; fix: string }[] }> {
  const problems = preflight(opts);
  return { ok: problems.length === 0, problems };
}

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new LabError('lab up was cancelled', 'run `lab up` again when ready');
}

/** Builds (or reuses) the base, then the networks, disks and hosts of the guide's topology. */
export async function labUp(opts: LabOptions = {}): Promise<LabInfo> {
  const t0 = Date.now();
  const dir = labDir(opts.dir);
  const progress = (step: string, message: string, fraction: number) => opts.onProgress?.({ step, message, fraction });
  const pre = preflight({ nfs: opts.nfs });
  if (pre.length) {
    throw new LabError(`the lab cannot run here: ${pre.map((p) => p.what).join('; ')}`, pre.map((p) => p.fix).join('; '));
  }
  if (readState(dir)) throw new LabError(`a lab is already up in ${dir}`, 'use it (`lab status`), or run `lab down` first');
  const caches = opts.caches ?? 1;
  // bad input is refused before anything is made
  const wanted = topology(0, caches);
  const links = parseLinkList(opts.links ?? '').map(([h, bps]) => [hostSpec(wanted, h).name, bps] as const);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const slot = reserveSlot(dir, (s) => nsExists(labNames(s).switchNs));
  raiseInotifyLimit();
  const topo = topology(slot, caches);
  const st: LabState = { version: 1, slot, caches, nfs: !!opts.nfs, base: '', hosts: {}, timings: {} };
  // written before anything is created, so that `down` finds a half-built lab
  writeState(dir, st);
  try {
    progress('base', 'looking for a cached base image', 0.02);
    for (const h of topo.hosts) fs.mkdirSync(hostPaths(dir, h.name).root, { recursive: true });
    await settleAll([ensureOperatorKey(dir), ...topo.hosts.map((h) => ensureHostKey(dir, h.name))]);
    const bases = await settleAll([
      ensureBase({ signal: opts.signal, onProgress: (m, f) => progress('base', m, 0.02 + f * 0.68) }),
      opts.nfs
        ? ensureBase({ extraPackages: VM_PACKAGES, signal: opts.signal, onProgress: (m, f) => progress('base', `VM base: ${m}`, 0.02 + f * 0.68) })
        : Promise.resolve(undefined),
    ]);
    const base = bases[0]!;
    const vmBase = bases[1];
    st.base = base.dir;
    st.vmBase = vmBase?.dir;
    const built = base.built || !!vmBase?.built;
    st.timings[built ? 'baseBuildMs' : 'baseCachedMs'] = Math.max(base.ms, vmBase?.ms ?? 0);
    for (const h of topo.hosts) st.hosts[h.name] = { kind: opts.nfs && NFS_VM_HOSTS.includes(h.name) ? 'qemu' : 'nspawn' };
    writeState(dir, st);
    checkAbort(opts.signal);
    progress('base', `base image ${base.built ? 'built' : 'reused'}: ${base.dir}${vmBase ? ` (VMs: ${vmBase.dir})` : ''}`, 0.7);

    const tNet = Date.now();
    progress('network', `networks ${topo.nets.map((n) => n.cidr).join(', ')}`, 0.72);
    await createSwitch(topo);
    await settleAll(topo.hosts.map((h) => (st.hosts[h.name]?.kind === 'qemu' ? createVmNetwork(slot, h) : createHostNetwork(slot, h))));
    const ssh = writeSshFiles(dir, topo);
    st.timings.networkMs = Date.now() - tNet;
    progress('mirror', `package mirror on ${topo.runnerAddress} (apt-cacher-ng)`, 0.75);
    await startMirror(dir, topo);
    checkAbort(opts.signal);

    const tBoot = Date.now();
    progress('hosts', `starting ${topo.hosts.map((h) => h.name).join(', ')}`, 0.78);
    const l = load(dir)!;
    await settleAll(topo.hosts.map((h) => boot(l.ctx(h.name))));
    let ready = 0;
    await settleAll(
      topo.hosts.map(async (h) => {
        const verdict = await waitReady(l.ctx(h.name), readyTimeout(l.ctx(h.name)));
        if (verdict !== 'running') throw await notRunning(l, h.name, verdict);
        ready++;
        progress('boot', `${h.name} is up (${verdict})`, 0.8 + (0.2 * ready) / topo.hosts.length);
      }),
    );
    st.timings.bootMs = Date.now() - tBoot;
    for (const [h, bps] of links) await setLinkRate(slot, hostSpec(topo, h), bps);
    st.links = Object.fromEntries(links.flatMap(([h, bps]) => (bps === null ? [] : [[h, bps]])));
    st.timings[built ? 'upFromEmptyCacheMs' : 'upWithCachedBaseMs'] = Date.now() - t0;
    writeState(dir, st);
    progress('done', `lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s; ssh -F ${ssh.config} <host>`, 1);
    return info(load(dir)!);
  } catch (e) {
    progress('cleanup', `up failed, tearing down: ${(e as Error).message.split('\n')[0]}`, 1);
    try {
      await labDown({ dir });
    } catch (downErr) {
      (e as Error).message += `\n(and the cleanup failed too: ${(downErr as Error).message}; run \`lab down\`)`;
    }
    throw e;
  }
}

/**
 * Like Promise.all, but waits for every task before failing: a cleanup must not run while
 * other hosts are still mounting and starting.
 */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** From nothing (or after a wipe) to booting: fresh disk, pristine root, machine started. */
async function boot(ctx: HostCtx): Promise<void> {
  const vm = ctx.kind === 'qemu';
  await freshDisk(hostPaths(ctx.dir, ctx.spec.name).disk, !vm);
  if (vm) {
    await buildVmImage(ctx, ctx.index);
    await startVm(ctx, ctx.index);
  } else {
    await mountRoot(ctx);
    await startHost(ctx);
  }
}

// a VM under software emulation needs ~45 s to boot; a container ~2 s
const readyTimeout = (ctx: HostCtx) => (ctx.kind === 'qemu' ? 300_000 : 60_000);

async function notRunning(l: Loaded, name: string, verdict: string): Promise<LabError> {
  const failed = await sshRun(l.dir, name, 'systemctl --failed --no-legend --plain');
  return new LabError(
    `host ${name} booted ${verdict}; failed units:\n${failed.stdout.trim() || failed.stderr.trim()}\nconsole:\n${consoleTail(l.ctx(name), 8)}`,
    'the base image is broken: remove it from the cache dir (ICBD_LAB_CACHE) and run `lab up` again',
  );
}

async function hostState(l: Loaded, name: string): Promise<LabHost['state']> {
  const ctx = l.ctx(name);
  const n = labNames(l.st.slot);
  if (!nsExists(ctx.kind === 'qemu' ? n.switchNs : n.hostNs(name))) return 'absent';
  if (!isRunning(ctx)) return 'stopped';
  return (await isCut(l.st.slot, ctx.spec)) ? 'cut' : 'running';
}

async function info(l: Loaded): Promise<LabInfo> {
  const p = sshPaths(l.dir);
  const hosts = await Promise.all(
    l.topo.hosts.map(async (h) => ({
      name: h.name,
      role: h.role,
      address: h.address,
      port: 22,
      user: 'root' as const,
      ...(h.jump ? { jump: h.jump } : {}),
      state: await hostState(l, h.name),
      console: hostPaths(l.dir, h.name).console,
      kind: l.st.hosts[h.name]?.kind ?? 'nspawn',
      ...(l.st.links?.[h.name] ? { link: formatRate(l.st.links[h.name]) } : {}),
    })),
  );
  const mirror = mirrorProxy(l.topo, { role: 'imgs' });
  return { dir: l.dir, slot: l.st.slot, hosts, sshConfig: p.config, knownHosts: p.knownHosts, identityFile: p.identity, mirror, timings: l.st.timings };
}

export async function labStatus(opts: { dir?: string } = {}): Promise<LabInfo | null> {
  const l = load(labDir(opts.dir));
  return l ? info(l) : null;
}

/**
 * Leaves the machine as it was before `up`, from any state (half-built, processes dead, state
 * file lost): everything is found by the lab's own slot names and its own files, never by
 * guessing, so other namespaces, loops and cgroups on the machine are never touched.
 */
export async function labDown(opts: DirOpts = {}): Promise<void> {
  const dir = labDir(opts.dir);
  const progress = (message: string, fraction: number) => opts.onProgress?.({ step: 'down', message, fraction });
  const slot = findSlot(dir);
  const hostsDir = path.join(dir, 'hosts');
  if (slot !== null) {
    const n = labNames(slot);
    progress('stopping hosts', 0.1);
    const cg = cgroupDirs(n.cgroup);
    if (!(await killTree(cg))) {
      throw new LabError(`processes of the lab survive in ${cg.unified}`, 'look for processes stuck in I/O (D state); then run `lab down` again');
    }
    const alive = await waitGone(n.cgroup);
    if (alive.length) throw new LabError(`processes of the lab survive SIGKILL: ${alive.join(' ')}`, 'look for processes stuck in I/O (D state); then run `lab down` again');
    removeTree(n.cgroup);
  }
  progress('unmounting', 0.4);
  const hostNames = fs.existsSync(hostsDir) ? fs.readdirSync(hostsDir) : [];
  for (const h of hostNames) {
    // nspawn's per-image lock is named by the root's inode: find it while the root is mounted
    const merged = hostPaths(dir, h).merged;
    if (mountsUnder(merged).length) {
      const stRoot = fs.statSync(merged);
      fs.rmSync(`/run/systemd/nspawn/locks/inode-${stRoot.dev}:${stRoot.ino}`, { force: true });
    }
    if (slot !== null) fs.rmSync(`/run/systemd/nspawn/propagate/${labNames(slot).hostNs(h)}`, { recursive: true, force: true });
  }
  removeEmptyNspawnRun();
  await unmountAll(dir);
  progress('detaching disks', 0.6);
  for (const h of hostNames) await detachDisk(hostPaths(dir, h).disk);
  if (slot !== null) {
    progress('deleting networks', 0.8);
    await destroyNetwork(slot);
  }
  if (mountsUnder(dir).length) throw new LabError(`mounts remain under ${dir}`, 'find them with `findmnt -R`, unmount them, run `lab down` again');
  fs.rmSync(hostsDir, { recursive: true, force: true });
  if (slot !== null) fs.rmSync(mirrorPaths(dir, slot).root, { recursive: true, force: true });
  const p = sshPaths(dir);
  for (const f of [p.config, p.knownHosts, p.identity, `${p.identity}.pub`, path.join(dir, 'supervise.sh')]) fs.rmSync(f, { force: true });
  removeState(dir);
  try {
    fs.rmdirSync(dir);
  } catch {
    // the operator keeps other files there
  }
  if (slot !== null) releaseSlot(slot, dir);
  progress('down', 1);
}

/** Hosts to act on: one validated name, or all of them. */
function targets(l: Loaded, host?: string): string[] {
  return host ? [hostSpec(l.topo, host).name] : l.topo.hosts.map((h) => h.name);
}

/**
 * Returns hosts to the state right after `up`: empty disk, original /etc and root, links
 * plugged, booted. Host keys are kept, so the known_hosts file stays valid.
 */
export async function labReset(host?: string, opts: DirOpts = {}): Promise<void> {
  const l = mustLoad(opts);
  const names = targets(l, host);
  await settleAll(
    names.map(async (name) => {
      const t0 = Date.now();
      const ctx = l.ctx(name);
      opts.onProgress?.({ step: 'reset', message: `resetting ${name}` });
      await stopHost(ctx, false);
      await wipeRoot(ctx);
      await setHostLinks(l.st.slot, ctx.spec, true);
      await boot(ctx);
      const verdict = await waitReady(ctx, readyTimeout(ctx));
      if (verdict !== 'running') throw await notRunning(l, name, verdict);
      l.st.timings[`reset.${name}Ms`] = Date.now() - t0;
      opts.onProgress?.({ step: 'reset', message: `${name} reset in ${((Date.now() - t0) / 1000).toFixed(1)} s` });
    }),
  );
  const fresh = readState(l.dir);
  if (fresh) writeState(l.dir, { ...fresh, timings: { ...fresh.timings, ...l.st.timings } });
}

/** Powers a host off (as `poweroff` would); it stays down until `labStart`. */
export async function labStop(host: string, opts: DirOpts = {}): Promise<void> {
  const l = mustLoad(opts);
  const name = hostSpec(l.topo, host).name;
  const ctx = l.ctx(name);
  opts.onProgress?.({ step: 'stop', message: `stopping ${name}` });
  if (ctx.kind === 'qemu' && isRunning(ctx)) {
    // qemu on SIGTERM is a power cut; ask the guest to shut down first
    await sshRun(l.dir, name, 'systemctl poweroff', { connectTimeout: 3, timeoutMs: 10_000 });
    const deadline = Date.now() + 60_000;
    while (isRunning(ctx) && Date.now() < deadline) await sleep(200);
  }
  await stopHost(ctx, true);
}

/** Boots a stopped host and waits until it answers over SSH. */
export async function labStart(host: string, opts: DirOpts = {}): Promise<void> {
  const l = mustLoad(opts);
  const name = hostSpec(l.topo, host).name;
  const ctx = l.ctx(name);
  opts.onProgress?.({ step: 'start', message: `starting ${name}` });
  if (ctx.kind === 'qemu') await startVm(ctx, ctx.index);
  else {
    await mountRoot(ctx);
    await startHost(ctx);
  }
  // a changed host may boot degraded; that is for the caller to judge, not a lab failure
  if (!(await isCut(l.st.slot, ctx.spec))) await waitReady(ctx, readyTimeout(ctx) + 30_000);
}

/** Unplugs every link of a host at the switch: connections stall, new ones time out. */
export async function labCut(host: string, opts: DirOpts = {}): Promise<void> {
  const l = mustLoad(opts);
  const name = hostSpec(l.topo, host).name;
  await setHostLinks(l.st.slot, l.ctx(name).spec, false);
}

/** Gives a host's site link a rate in both directions (`off` removes it); cut and heal keep it. */
export async function labLink(host: string, rate: string, opts: DirOpts = {}): Promise<string> {
  const l = mustLoad(opts);
  const spec = hostSpec(l.topo, host);
  const bps = parseRate(rate);
  await setLinkRate(l.st.slot, spec, bps);
  const fresh = readState(l.dir) ?? l.st;
  const links = { ...fresh.links };
  if (bps === null) delete links[spec.name];
  else links[spec.name] = bps;
  writeState(l.dir, { ...fresh, links });
  return `${spec.name}'s link is ${formatRate(bps)}`;
}

export async function labHeal(host: string, opts: DirOpts = {}): Promise<void> {
  const l = mustLoad(opts);
  const name = hostSpec(l.topo, host).name;
  await setHostLinks(l.st.slot, l.ctx(name).spec, true);
}

/** Everything of slot `slot` that exists in the kernel right now (for tests and `status`). */
export async function labLeftovers(slot: number, dir?: string): Promise<string[]> {
  const n = labNames(slot);
  const found: string[] = (await labNamespaces(slot)).map((ns) => `netns ${ns}`);
  if (fs.existsSync(`/sys/class/net/${n.runnerIf}`)) found.push(`link ${n.runnerIf}`);
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    if (fs.existsSync(path.join('/sys/fs/cgroup', h, n.cgroup))) found.push(`cgroup ${h}/${n.cgroup}`);
  }
  if (dir) {
    const d = labDir(dir);
    for (const m of mountsUnder(d)) found.push(`mount ${m}`);
    const loops = await runRaw('losetup', ['-n', '-O', 'NAME,BACK-FILE', '-l']);
    for (const line of loops.stdout.split('\n')) if (line.includes(`${d}/`)) found.push(`loop ${line.trim()}`);
  }
  for (const pid of processesOf(n.cgroup)) found.push(`process ${pid}`);
  return found;
}
