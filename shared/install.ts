import { z } from 'zod';
import { FAMILIES } from './distro.ts';
import { role } from './inventory.ts';
import { address, hostName } from './names.ts';

/**
 * The installer across the process boundary: what the operator asks for (a role on a host, the
 * platform's addresses), the plan the engine answers with (electron/core/installer/plan.ts, whose
 * types are checked against these schemas where the handlers return them), and what is remembered
 * per host so a window closed mid-install opens where it stood.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 network or interface address with its prefix: 10.0.2.0/24, 10.1.2.251/24. */
export const cidr = z
  .string()
  .refine((v) => {
    const [ip, len, ...rest] = v.split('/');
    return rest.length === 0 && IPV4.test(ip ?? '') && /^\d{1,2}$/.test(len ?? '') && Number(len) <= 32;
  }, 'Give an IPv4 network with its prefix length, e.g. 10.0.2.0/24.');

// /etc/hosts maps names to addresses, so a name is no use here.
const ipAddress = address.refine((v) => IPV4.test(v) || v.includes(':'), 'Give an IP address (the /etc/hosts line needs one), e.g. 10.0.2.251.');

function toInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
}
function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The guide puts the server at .251 of its network (imgs 10.0.2.251, a cache's clients 10.1.2.251). */
export const GUIDE_HOST_PART = 251;

/**
 * The cache's own address on its client network, which the clients reach boot/root/adm-s at.
 * 10.1.2.251/24 names it directly; a bare network (10.1.2.0/24) means the guide's .251 in it.
 */
export function cacheAddress(subnet: string): string {
  const [ip, lenText] = subnet.split('/') as [string, string];
  const len = Number(lenText);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const n = toInt(ip);
  if ((n & ~mask) >>> 0 !== 0) return ip;
  const size = 2 ** (32 - len);
  if (size <= GUIDE_HOST_PART + 1) throw new Error(`${subnet} is too small for the guide's .${GUIDE_HOST_PART}; give the cache's address, e.g. ${fromInt(n + 1)}/${len}.`);
  return fromInt((n & mask) + GUIDE_HOST_PART);
}

/** The network a CIDR belongs to: 10.1.2.251/24 → 10.1.2.0/24. */
export function networkOf(subnet: string): string {
  const [ip, lenText] = subnet.split('/') as [string, string];
  const len = Number(lenText);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return `${fromInt((toInt(ip) & mask) >>> 0)}/${len}`;
}

/** The guide's numbering: cache 1 serves its clients on 10.1.2.0/24. */
export const guideClientSubnet = (cacheNumber: number) => `10.${cacheNumber}.2.0/24`;

/** The cache number in a name like cache01 or icbd-cache-3. */
export function cacheNumberOf(host: string): number | undefined {
  const m = /(\d+)$/.exec(host);
  const n = m ? Number(m[1]) : NaN;
  return n >= 1 && n <= 254 ? n : undefined;
}

/** Where the platform's names point (written to /etc/hosts and /etc/exports of every node). */
export const platform = z
  .object({
    imgs: ipAddress,
    home: ipAddress,
    /** The rw node (data.icbd.local to the caches). */
    data: ipAddress,
    /** The network allowed to mount the exports (iCBD-Net). */
    clients: cidr,
  })
  .strict();
export type PlatformInput = z.infer<typeof platform>;

/** A cache's own part: its number and the network of its clients (its second NIC). */
export const cacheSettings = z
  .object({
    number: z.number().int().min(1, 'The cache number is 1 or more.').max(254, 'The cache number is at most 254.'),
    clientSubnet: cidr.refine((v) => {
      try {
        cacheAddress(v);
        return true;
      } catch {
        return false;
      }
    }, "The network is too small for the guide's .251; give the cache's address in it, e.g. 10.1.2.1/25."),
  })
  .strict();

/** A device the operator typed to allow mkfs on it: /dev/sdb or sdb. */
export const devicePath = z.string().regex(/^(\/dev\/)?[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'Give the device as /dev/sdb or sdb.');

export const installRequest = z
  .object({
    host: hostName,
    role,
    platform,
    cache: cacheSettings.optional(),
    /** Typed by the operator to allow formatting this disk. */
    confirmDisk: devicePath.optional(),
    /** False leaves out the cache's nfs4 lines (a host without an NFS client). */
    nfs: z.boolean().default(true),
  })
  .strict()
  .refine((r) => r.role !== 'cache' || r.cache !== undefined, { message: 'A cache needs its number and client subnet.', path: ['cache'] });
export type InstallRequest = z.infer<typeof installRequest>;

export const STEP_IDS = [
  'preflight', 'packages', 'selinux', 'disk', 'lib', 'layout', 'hosts', 'mounts', 'sysctl', 'firewall', 'exports', 'services', 'ssh-key', 'ssh-trust', 'replication-key', 'replication-receive',
] as const;
export const stepId = z.enum(STEP_IDS);

const argv = z.array(z.string());
export const commandChange = z.object({
  kind: z.literal('command'),
  summary: z.string(),
  argv,
  onlyIf: argv.optional(),
  unless: argv.optional(),
  undo: argv.optional(),
});
export const fileChange = z.object({
  kind: z.literal('file'),
  summary: z.string(),
  path: z.string(),
  before: z.string().optional(),
  after: z.string(),
  /** Unified diff of before → after. */
  diff: z.string(),
  inPlace: z.boolean(),
  mode: z.string().optional(),
  fstab: z.literal(true).optional(),
});
export const change = z.discriminatedUnion('kind', [commandChange, fileChange]);

export const notice = z.object({ level: z.enum(['info', 'warning', 'blocker']), message: z.string() });

export const stepPlan = z.object({
  id: stepId,
  title: z.string(),
  destructive: z.boolean(),
  changes: z.array(change),
  notices: z.array(notice),
});
export type StepPlanOut = z.infer<typeof stepPlan>;

export const installPlan = z.object({
  host: z.string(),
  role,
  distribution: z.string(),
  family: z.enum(FAMILIES).optional(),
  steps: z.array(stepPlan),
  blockers: z.array(z.object({ step: stepId, message: z.string() })),
  /** 0: the host is installed and verified. */
  changes: z.number().int(),
});
export type InstallPlanOut = z.infer<typeof installPlan>;

/** Annex 2's SSH table over the whole platform: each installed node's /etc/hosts and ssh-trust steps. */
export const trustPlan = z.object({
  nodes: z.array(z.object({ host: z.string(), steps: z.array(stepPlan), skipped: z.string().optional() })),
  notices: z.array(notice),
  /** 0: every installed node trusts every other. */
  changes: z.number().int(),
});
export type TrustPlanOut = z.infer<typeof trustPlan>;

/** A disk as the installer sees it; `problems` empty means it may be formatted. */
export const diskInfo = z.object({
  device: z.string(),
  nodes: z.array(z.string()),
  size: z.number(),
  type: z.string(),
  fstype: z.string(),
  problems: z.array(z.string()),
});

/** What the wizard's preflight and disk stages show, from one read of the host. */
export const installDisks = z.object({
  distribution: z.string(),
  preflight: z.array(notice),
  /** UUID of the iCBD filesystem when one exists already (nothing is formatted then). */
  filesystem: z.string().optional(),
  disks: z.array(diskInfo),
});
export type InstallDisks = z.infer<typeof installDisks>;

/** The cache-node wizard's stages, in order. */
export const WIZARD_STAGES = ['host', 'preflight', 'disk', 'network', 'review', 'apply', 'reboot', 'done'] as const;
export const wizardStage = z.enum(WIZARD_STAGES);
export type WizardStage = z.infer<typeof wizardStage>;

/** What the operator chose, without the typed confirmation (that is typed again after a reopen). */
export const installSettings = z
  .object({
    role,
    platform,
    cache: cacheSettings.optional(),
    nfs: z.boolean(),
    /** The disk picked for the iCBD filesystem. */
    disk: z.string().optional(),
  })
  .strict();
export type InstallSettings = z.infer<typeof installSettings>;

export const RUN_STATES = ['running', 'done', 'failed', 'cancelled', 'interrupted'] as const;

/** The last apply or reboot of a host; `interrupted` = its process ended while it ran. */
export const installRun = z.object({
  kind: z.enum(['apply', 'reboot']),
  jobId: z.string(),
  state: z.enum(RUN_STATES),
  step: stepId.optional(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  error: z.string().optional(),
  /** The process that runs it: another door's run still going is not interrupted. */
  pid: z.number().int(),
});
export type InstallRun = z.infer<typeof installRun>;

export const installState = z.object({
  host: hostName,
  settings: installSettings,
  /** True when nothing was saved yet and the settings are proposed from the inventory. */
  proposed: z.boolean(),
  stage: wizardStage.optional(),
  run: installRun.optional(),
  /** The last plan made: when, how many changes and blockers it had. */
  lastCheck: z.object({ at: z.number(), changes: z.number().int(), blockers: z.number().int() }).optional(),
});
export type InstallState = z.infer<typeof installState>;

export const installRemember = z
  .object({ host: hostName, settings: installSettings.optional(), stage: wizardStage.optional() })
  .strict();

/** The request of a host's saved settings plus the typed confirmation. */
export function requestOf(host: string, s: InstallSettings, confirmDisk?: string): z.input<typeof installRequest> {
  return {
    host,
    role: s.role,
    platform: s.platform,
    nfs: s.nfs,
    ...(s.role === 'cache' && s.cache ? { cache: s.cache } : {}),
    ...(confirmDisk ? { confirmDisk } : {}),
  };
}
