import fs from 'node:fs';
import path from 'node:path';
import { LabError } from './errors.ts';
import { restoreInotifyLimit } from './limits.ts';
import { SLOT_ROOT } from './paths.ts';
import { MAX_SLOTS } from './topology.ts';

export type HostKind = 'nspawn' | 'qemu';

export interface LabState {
  version: 1;
  slot: number;
  caches: number;
  nfs: boolean;
  base: string;
  /** The base with a kernel, for the NFS tier's VMs. */
  vmBase?: string;
  hosts: Record<string, { kind: HostKind }>;
  /** Shaped site links: host → bits per second (links.ts). */
  links?: Record<string, number>;
  timings: Record<string, number>;
}

const stateFile = (dir: string) => path.join(dir, 'lab.json');

export function readState(dir: string): LabState | null {
  try {
    return JSON.parse(fs.readFileSync(stateFile(dir), 'utf8')) as LabState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LabError(`cannot read ${stateFile(dir)}: ${(e as Error).message}`, 'run `lab down` to clean up, then `lab up`');
  }
}

export function writeState(dir: string, st: LabState): void {
  const tmp = `${stateFile(dir)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(st, null, 2));
  fs.renameSync(tmp, stateFile(dir));
}

export function removeState(dir: string): void {
  fs.rmSync(stateFile(dir), { force: true });
}

const slotDir = (slot: number) => path.join(SLOT_ROOT, `slot-${slot}`);

/** The lab dir that holds `slot`, or null when the slot is free. */
export function slotOwner(slot: number): string | null {
  try {
    return fs.readFileSync(path.join(slotDir(slot), 'dir'), 'utf8');
  } catch {
    return null;
  }
}

/**
 * Reserves the first free slot for `dir`. mkdir is atomic, so two labs started at the same
 * time never get the same slot (and so never the same namespace or interface names).
 */
export function reserveSlot(dir: string, inUse: (slot: number) => boolean): number {
  fs.mkdirSync(SLOT_ROOT, { recursive: true });
  for (let s = 0; s < MAX_SLOTS; s++) {
    try {
      fs.mkdirSync(slotDir(s));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = slotOwner(s);
      // A reservation whose owner has no state and no kernel objects is left over from a crash
      // (without an owner at all, once it is too old to be one being written right now).
      let stale: boolean;
      try {
        stale = owner === null ? Date.now() - fs.statSync(slotDir(s)).mtimeMs > 60_000 : readState(owner)?.slot !== s;
      } catch {
        stale = false; // released meanwhile: the next round takes it
      }
      if (stale && !inUse(s)) {
        fs.rmSync(slotDir(s), { recursive: true, force: true });
        s--;
      }
      continue;
    }
    fs.writeFileSync(path.join(slotDir(s), 'dir'), dir);
    return s;
  }
  throw new LabError(`all ${MAX_SLOTS} lab slots are in use`, 'bring a lab down with `lab down --dir DIR` (see /run/icbdlab/slot-*/dir)');
}

export function releaseSlot(slot: number, dir: string): void {
  if (slotOwner(slot) === dir) fs.rmSync(slotDir(slot), { recursive: true, force: true });
  try {
    fs.rmdirSync(SLOT_ROOT);
  } catch {
    return; // other labs still hold slots
  }
  restoreInotifyLimit();
}

/** The slot `dir` holds, found from the reservations when its state file is gone (half-built lab). */
export function findSlot(dir: string): number | null {
  const st = readState(dir);
  if (st) return st.slot;
  for (let s = 0; s < MAX_SLOTS; s++) if (slotOwner(s) === dir) return s;
  return null;
}
