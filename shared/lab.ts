import { z } from 'zod';
import { role } from './inventory.ts';
import { hostName } from './names.ts';

/** The demo lab as the contract sees it (see electron/core/lab/ for how it is built). */
export const labProblem = z.object({ what: z.string(), fix: z.string() });
export const labPreflight = z.object({ ok: z.boolean(), problems: z.array(labProblem) });

export const labHost = z.object({
  name: hostName,
  role,
  address: z.string(),
  port: z.number().int(),
  user: z.literal('root'),
  jump: hostName.optional(),
  state: z.enum(['running', 'stopped', 'cut', 'absent']),
  /** The rate of the host's site link, like "100mbit"; absent when unshaped. */
  link: z.string().optional(),
});

export const labInfo = z.object({
  dir: z.string(),
  hosts: z.array(labHost),
  sshConfig: z.string(),
  knownHosts: z.string(),
  identityFile: z.string(),
  /** The site mirror (apt proxy) of imgs; the hosts behind imgs reach it through imgs. */
  mirror: z.string(),
  timings: z.record(z.string(), z.number()).optional(),
});
export type LabInfoWire = z.infer<typeof labInfo>;

export const labUpInput = z
  .object({
    caches: z.number().int().min(1, 'The lab has 1 to 9 caches.').max(9, 'The lab has 1 to 9 caches.').default(1),
    nfs: z.boolean().default(false),
    addHosts: z.boolean().default(true),
    /** Link rates once the hosts are up: "cache01=100mbit,imgs=1gbit". */
    links: z.string().max(500).optional(),
  })
  .strict();

/** A rate like 50mbit, 100mbit, 1gbit (kbit/mbit/gbit), or off. */
export const linkRate = z
  .string()
  .regex(/^(\d+(\.\d+)?(kbit|mbit|gbit)|off)$/, 'Give a rate like 50mbit, 100mbit or 1gbit, or off.');

export const labLinkInput = z.object({ host: hostName, rate: linkRate }).strict();

export const labHostAction = z
  .object({
    action: z.enum(['reset', 'stop', 'start', 'cut', 'heal']),
    /** Without a host, reset means every host; the other actions need one. */
    host: hostName.optional(),
  })
  .strict()
  .refine((v) => v.action === 'reset' || v.host !== undefined, { message: 'Name the lab host to act on.', path: ['host'] });

export const labSelftestResult = z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string(), ms: z.number() }));
