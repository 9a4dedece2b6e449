import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Core } from '../../electron/core/core.ts';
import { addLabHosts, trustLabHostKeys } from '../../electron/core/handlers/lab.ts';
import { labUp, type LabInfo, type LabOptions } from '../../electron/core/lab/index.ts';

/**
 * What the lab-backed test files share: a lab of their own (in its own directory, so files can run
 * beside each other) whose hosts are in the core's inventory with their keys trusted, the CLI run
 * on the same data directory, and a shell on a host through the core's pool.
 */

/** lab up (with extra base packages where asked: the hosts have no network), hosts added, keys trusted. */
export async function labWithHosts(core: Core, opts: Pick<LabOptions, 'dir' | 'caches' | 'nfs' | 'packages'>): Promise<LabInfo> {
  const info = await labUp(opts);
  const { added } = await addLabHosts(core.inventory, info.hosts, info.identityFile);
  await trustLabHostKeys((await core.ssh()).knownHosts, info.knownHosts, info.hosts.filter((h) => added.includes(h.name)));
  return info;
}

const execFileP = promisify(execFile);

/** `icbd …` as the operator types it, on the test's data directory and lab; never throws. */
export function icbdIn(home: string, labDir: string) {
  return (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    execFileP('node', ['electron/icbd.mjs', '--home', home, ...args], { env: { ...process.env, ICBD_LAB_DIR: labDir } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
}

/** A script on a host, its arguments passed as $1… (never pasted into it); its stdout. */
export function shOn(core: Core) {
  return async (node: string, script: string, ...args: string[]): Promise<string> =>
    (await (await core.ssh()).run(node, ['sh', '-c', script, 'sh', ...args], { timeoutMs: 120_000 })).stdout;
}
