import type { Family } from '../../../shared/distro.ts';
import type { Role } from '../../../shared/inventory.ts';
import type { Platform, RoleSpec } from '../../../shared/roles.ts';
import type { HostState } from './state.ts';

/**
 * An installation step is data plus a pure `plan` over the host's state. Reading the state is
 * one batched gather for all steps (gather.ts), applying is one executor for all steps (apply.ts),
 * and verifying is gathering again and planning again: a step that took plans nothing.
 */

export type StepId =
  | 'preflight'
  | 'packages'
  | 'selinux'
  | 'disk'
  | 'lib'
  | 'layout'
  | 'mounts'
  | 'hosts'
  | 'sysctl'
  | 'firewall'
  | 'exports'
  | 'services'
  | 'ssh-key'
  | 'ssh-trust'
  | 'replication-key'
  | 'replication-receive';

export interface CommandChange {
  kind: 'command';
  summary: string;
  argv: string[];
  /** Run only when this probe exits 0 (e.g. `test -e` on what an interrupted run left). */
  onlyIf?: string[];
  /** Skip when this probe exits 0. */
  unless?: string[];
  /** How to take it back if a later change of the same step fails (mount → umount). */
  undo?: string[];
}

export interface FileChange {
  kind: 'file';
  summary: string;
  /** The file written: for a bind-mounted file, its bind source. */
  path: string;
  /** Undefined when the file does not exist yet. */
  before?: string;
  after: string;
  diff: string;
  /** Rewrite the same inode (bind-mounted files and bind sources) instead of renaming over it. */
  inPlace: boolean;
  /** Mode of a file created new. */
  mode?: string;
  /** /etc/fstab: checked with findmnt --verify before it replaces the old one, systemd reloaded after. */
  fstab?: true;
}

export type Change = CommandChange | FileChange;

export interface Notice {
  level: 'info' | 'warning' | 'blocker';
  message: string;
}

export interface StepPlan {
  id: StepId;
  title: string;
  destructive: boolean;
  changes: Change[];
  notices: Notice[];
}

/** Another node this one must trust (Annex 2's SSH table: every node trusts every other). */
export interface Peer {
  /** The inventory name, said in notices. */
  name?: string;
  /** Names and addresses the node is reached by (known_hosts). */
  names: string[];
  /** The IP addresses it connects from (platform, inventory, replication): its key is accepted from these alone. */
  sources: string[];
  /** Its IPv4 address on the platform's network: an /etc/hosts line makes `ssh NAME` work between nodes. */
  address?: string;
  /** Root's public key; missing until the node's ssh-key step made it. */
  publicKey?: string;
  hostKey?: string;
  /** Why the node's keys could not be read (unreachable): its trust is completed later. */
  problem?: string;
}

export interface InstallInput {
  /** The inventory name, for the audit log and key comments. */
  host: string;
  role: Role;
  platform: Platform;
  /** The device the operator typed to allow mkfs.btrfs on it. */
  confirmDisk?: string;
  /** False leaves out the cache's nfs4 lines (hosts without an NFS client, like the lab's containers). */
  nfs?: boolean;
  peers?: Peer[];
  /** replication-receive: the source's replication key, the addresses it may come from, this node's repository root. */
  replicationFrom?: { publicKey: string; from: string[]; root: string };
}

export interface PlanContext {
  input: InstallInput;
  state: HostState;
  family: Family;
  spec: RoleSpec;
  /** The iCBD filesystem's UUID, or undefined until mkfs has run. */
  uuid: string | undefined;
}

export interface Step {
  id: StepId;
  title: string;
  /** Only for these roles (all when absent). */
  roles?: readonly Role[];
  /** Destroys data: applied only after the operator typed the device name. */
  destructive?: boolean;
  plan(ctx: PlanContext): { changes: Change[]; notices?: Notice[] };
}
