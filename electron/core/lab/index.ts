/**
 * The iCBD lab: imgs, rw, home and cache nodes as real hosts (systemd-nspawn, network
 * namespaces, loop disks) on one Linux machine. Plain Node; never imports 'electron'.
 */
export { LabError } from './errors.ts';
export {
  labCut, labDown, labHeal, labLink, labLeftovers, labPreflight, labReset, labStart, labStatus, labStop, labUp,
  type LabHost, type LabInfo, type LabOptions, type LabProgress,
} from './lab.ts';
export { labSelftest, type SelftestResult } from './selftest.ts';
export { sshRun } from './ssh-files.ts';
export { BASE_PACKAGES } from './base-image.ts';
export { RUNNER_PACKAGES, NFS_RUNNER_PACKAGES } from './preflight.ts';
