import { z } from 'zod';
import { ERROR_CODES } from './errors.ts';
import type { Role } from './inventory.ts';
import { hostName } from './names.ts';

/**
 * SSH facts that both sides show: host key questions and states, the known_hosts listing,
 * the node health payload and whether secrets are remembered. No key material and no secret
 * ever appears in these shapes: only key types and SHA256 fingerprints.
 */

export const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'A fingerprint looks like SHA256: followed by 43 base64 characters.');

/** How a presented host key compares with what is known, per OpenSSH. */
export const HOST_KEY_STATES = ['known', 'unknown', 'changed', 'revoked'] as const;
export const hostKeyState = z.enum(HOST_KEY_STATES);

export const knownKey = z.object({ keyType: z.string(), fingerprint });
export type KnownKey = z.infer<typeof knownKey>;

/** Asked when a hop presents a key nobody has seen: accept (saved) or reject (nothing saved). */
export const hostKeyQuestion = z.object({
  /** The host the operator asked for. */
  host: hostName,
  /** The host whose key this is: `host` itself, or one of its jump hosts. */
  hop: hostName,
  address: z.string(),
  port: z.number().int(),
  keyType: z.string(),
  fingerprint,
  /** Keys of other types already known for this address: OpenSSH warns about these too. */
  otherKnown: z.array(knownKey),
});
export type HostKeyQuestion = z.infer<typeof hostKeyQuestion>;

export const knownHostEntry = z.object({
  file: z.string(),
  line: z.number().int(),
  /** The host patterns as written, or "(hashed)" for |1| entries that cannot be read back. */
  hosts: z.string(),
  marker: z.enum(['revoked', 'cert-authority']).optional(),
  keyType: z.string(),
  fingerprint,
  /** Only entries of the app's own file can be forgotten; ~/.ssh files are the operator's. */
  editable: z.boolean(),
});
export type KnownHostEntry = z.infer<typeof knownHostEntry>;

/**
 * unknown: not probed yet. up: it answered, latency measured. down: no SSH answer. untrusted: it
 * answers, but with a host key (its own or a jump host's) that is not accepted: never seen yet
 * (the fingerprint must be checked), or changed or revoked (a security event).
 */
export const HEALTH_STATES = ['unknown', 'up', 'down', 'untrusted'] as const;

/** Why a host is not up, as errors cross the wire (the message says what to do), plus the key at stake. */
export const healthProblem = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** Set when the state is untrusted: which hop presented which key, and how it compares. */
  hostKey: z
    .object({
      state: hostKeyState.exclude(['known']),
      /** The host whose key it is: the probed host itself, or one of its jump hosts. */
      hop: hostName,
      address: z.string(),
      port: z.number().int(),
      keyType: z.string(),
      fingerprint,
    })
    .optional(),
});
export type HealthProblem = z.infer<typeof healthProblem>;

export const hostHealth = z.object({
  host: hostName,
  state: z.enum(HEALTH_STATES),
  /** A round trip on the host's SSH connection, in milliseconds; null unless up. */
  latencyMs: z.number().nonnegative().nullable(),
  lastError: healthProblem.nullable(),
  /** Epoch milliseconds of the last probe and of the last change of state. */
  checkedAt: z.number().nullable(),
  since: z.number(),
});
export type HostHealth = z.infer<typeof hostHealth>;

/** Whether passwords and passphrases are remembered, and if not, why (shown beside every prompt). */
export const secretsStatus = z.object({
  backend: z.enum(['keychain', 'none']),
  persistent: z.boolean(),
  reason: z.string().optional(),
});
export type SecretsStatus = z.infer<typeof secretsStatus>;

// `answer`: what a server asks over keyboard-interactive besides the password (a one-time code).
export const SECRET_KINDS = ['password', 'passphrase', 'sudo', 'answer'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Asked when a credential is needed and the keychain has none (or had a wrong one). */
export interface SecretQuestion {
  kind: SecretKind;
  host: string;
  /** What is asked, in words: "Password for root@10.0.0.2", "Passphrase for ~/.ssh/id_ed25519". */
  prompt: string;
  /** Why the keychain's value is not used: none stored, refused, or no keychain at all. */
  reason: string;
  /** Whether a correct answer will be saved in the keychain. */
  remembered: boolean;
}

/** The name a known_hosts file uses for an address: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** "ssh-ed25519" → "ED25519", as OpenSSH prints it beside a fingerprint. */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa' || keyType.startsWith('rsa-sha2')) return 'RSA';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType;
}

const ROLE_WORDS: [RegExp, Role][] = [
  [/^imgs?\d*$/, 'imgs'],
  [/^rw\d*$/, 'rw'],
  [/^homes?\d*$/, 'home'],
  [/^cache\d*$/, 'cache'],
];

/**
 * The role a host probably has, from the words of its name (imgs, icbd-rw, home, cache01,
 * cache-02); then from the first label of its address. Undefined when nothing says.
 */
export function guessRole(name: string, address?: string): Role | undefined {
  for (const text of [name, address?.split('.')[0] ?? '']) {
    const words = text.toLowerCase().split(/[-_.]/);
    const joined = text.toLowerCase().replace(/[-_]/g, '');
    for (const [pattern, role] of ROLE_WORDS) {
      if (words.some((w) => pattern.test(w)) || pattern.test(joined)) return role;
    }
  }
  return undefined;
}

/** Output and end of a terminal session, as events to the window that shows it. */
export const terminalEvent = z.discriminatedUnion('type', [
  z.object({ id: z.string(), type: z.literal('data'), data: z.string() }),
  z.object({ id: z.string(), type: z.literal('exit'), code: z.number().nullable(), signal: z.string().nullable() }),
]);
export type TerminalEvent = z.infer<typeof terminalEvent>;
