import fs from 'node:fs';
import path from 'node:path';
import { sleep } from './exec.ts';

const ROOT = '/sys/fs/cgroup';

/**
 * The cgroup trees a host lives in. The machine's PID 1 is not systemd, so nothing creates
 * per-container cgroups; without one of its own each booted systemd would share the runner's
 * tree. On a hybrid machine the host's systemd tracks units in name=systemd and the unified
 * tree gives cgroup.kill; on a pure cgroup2 machine both are the same tree.
 */
export function cgroupDirs(labCgroup: string, host?: string) {
  const unified = fs.existsSync(path.join(ROOT, 'unified', 'cgroup.procs')) ? path.join(ROOT, 'unified') : ROOT;
  const named = fs.existsSync(path.join(ROOT, 'systemd', 'cgroup.procs')) ? path.join(ROOT, 'systemd') : unified;
  const rel = host ? path.join(labCgroup, host) : labCgroup;
  return { unified: path.join(unified, rel), named: path.join(named, rel) };
}

export function createHostCgroup(labCgroup: string, host: string) {
  const d = cgroupDirs(labCgroup, host);
  fs.mkdirSync(d.unified, { recursive: true });
  fs.mkdirSync(d.named, { recursive: true });
  return d;
}

function walk(dir: string): string[] {
  let out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) if (e.isDirectory()) out = out.concat(walk(path.join(dir, e.name)));
  out.push(dir);
  return out;
}

/** Every pid in a cgroup subtree. */
export function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  for (const d of walk(dir)) {
    try {
      for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.push(Number(l));
    } catch {
      // the directory vanished meanwhile
    }
  }
  return pids;
}

/** Kills everything in a subtree (cgroup.kill where the kernel has it) and waits until it is empty. */
export async function killTree(dirs: { unified: string; named: string }, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = [...new Set([...pidsIn(dirs.unified), ...pidsIn(dirs.named)])];
    if (pids.length === 0) return true;
    if (Date.now() > deadline) return false;
    try {
      fs.writeFileSync(path.join(dirs.unified, 'cgroup.kill'), '1');
    } catch {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await sleep(50);
  }
}

/** Removes a (now empty) subtree from every hierarchy, deepest first. */
export function removeTree(labCgroup: string, host?: string): void {
  const rel = host ? path.join(labCgroup, host) : labCgroup;
  let hierarchies: string[];
  try {
    // a pure cgroup2 machine has one hierarchy at the root; a hybrid one a directory per hierarchy
    hierarchies = fs.existsSync(path.join(ROOT, 'cgroup.procs')) ? [ROOT] : fs.readdirSync(ROOT).map((h) => path.join(ROOT, h));
  } catch {
    return;
  }
  for (const h of hierarchies) {
    for (const d of walk(path.join(h, rel))) {
      try {
        fs.rmdirSync(d);
      } catch {
        // not there in this hierarchy
      }
    }
  }
}

/**
 * Live pids whose /proc/PID/cgroup names the lab's tree, including processes still exiting.
 * Zombies are left out: they are only exit codes, and the killed hosts' processes are orphans
 * whose reaping is up to the machine's init (immediate under systemd or tini, seconds under
 * some sandbox inits).
 */
export function processesOf(labCgroup: string): number[] {
  const found: number[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${labCgroup}/`)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Waits until no live process of the lab remains (killed ones may take a moment to exit). */
export async function waitGone(labCgroup: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesOf(labCgroup);
  while (left.length && Date.now() < deadline) {
    await sleep(50);
    left = processesOf(labCgroup);
  }
  return left;
}
