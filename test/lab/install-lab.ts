import type { Core } from '../../electron/core/core.ts';
import type { LabInfo } from '../../electron/core/lab/index.ts';
import { packagesFor } from '../../shared/distro.ts';
import type { PlatformInput } from '../../shared/install.ts';
import { labWithHosts } from './session.ts';

/**
 * The lab's hosts have no outside network, so the packages the installer's Debian mapping wants
 * are in their base image already. debootstrap resolves no virtual packages: the two providers
 * after the mapping stand in for `perl-openssl-abi-3` and `default-logind | logind`.
 */
export const LAB_INSTALL_PACKAGES = [...packagesFor('debian').map((p) => p.name), 'perl-openssl-defaults', 'libpam-systemd'];

/** The lab's iCBD-Net (electron/core/lab/topology.ts): imgs at the guide's .251, rw .11, home .12. */
export const LAB_PLATFORM: PlatformInput = { imgs: '10.213.2.251', home: '10.213.2.12', data: '10.213.2.11', clients: '10.213.2.0/24' };

/** lab up with extra packages (not a contract option), its hosts added to the core's inventory and their keys trusted. */
export function installLabUp(core: Core, dir: string, opts: { nfs?: boolean; packages?: string[] } = {}): Promise<LabInfo> {
  return labWithHosts(core, { dir, caches: 1, nfs: opts.nfs ?? false, packages: opts.packages ?? LAB_INSTALL_PACKAGES });
}
