import type { Core } from '../../electron/core/core.ts';
import type { LabInfo } from '../../electron/core/lab/index.ts';
import type { PlatformInput } from '../../shared/install.ts';
import { labWithHosts } from './session.ts';

/** The lab's iCBD-Net (electron/core/lab/topology.ts): imgs at the guide's .251, rw .11, home .12. */
export const LAB_PLATFORM: PlatformInput = { imgs: '10.213.2.251', home: '10.213.2.12', data: '10.213.2.11', clients: '10.213.2.0/24' };

/** lab up as users get it (packages come through its mirror), its hosts added to the core's inventory and their keys trusted. */
export function installLabUp(core: Core, dir: string, opts: { nfs?: boolean } = {}): Promise<LabInfo> {
  return labWithHosts(core, { dir, caches: 1, nfs: opts.nfs ?? false });
}
