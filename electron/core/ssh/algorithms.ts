import type { Algorithms, ServerHostKeyAlgorithm } from 'ssh2';

/**
 * AES-GCM first: with AES-NI it is the fastest cipher ssh2 has (PERF-NOTES: 356 vs 300 MB/s for
 * chacha20 through OpenSSH). chacha20-poly1305 is never offered: Electron's BoringSSL lacks the
 * primitive ssh2 needs for it, so a server preferring it would fail the handshake under Electron
 * while working under the CLI. CTR modes stay as a fallback for old servers (CentOS 6 era).
 */
export const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'] as const;

const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

// An RSA key is one key type ("ssh-rsa") signed with any of three algorithms.
const algorithmsOf = (keyType: string) => (keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType]);

/**
 * Like OpenSSH, ask first for the key types already trusted for this host: a server with both an
 * RSA and an Ed25519 key, known by its RSA key, must not look "unknown" because Ed25519 is
 * negotiated first.
 */
export function algorithmsFor(knownTypes: readonly string[]): Algorithms {
  const preferred = knownTypes.flatMap(algorithmsOf).filter((a) => HOST_KEY_ALGORITHMS.includes(a));
  return {
    cipher: [...CIPHERS],
    serverHostKey: [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])] as ServerHostKeyAlgorithm[],
  };
}

/**
 * Whether ssh2's native crypto binding loaded. Without it every byte is encrypted in JavaScript
 * and throughput drops several times (PERF-NOTES); the doors should warn when it is false.
 * A dynamic import, not createRequire(import.meta.url): the Electron main is bundled to CommonJS.
 */
export async function cryptoBindingAvailable(): Promise<boolean> {
  try {
    // @ts-expect-error -- @types/ssh2 does not describe this internal module; only its flag is read.
    const mod = (await import('ssh2/lib/protocol/crypto.js')) as { bindingAvailable?: boolean; default?: { bindingAvailable?: boolean } };
    // A CommonJS module seen from ESM: the flag may only be on the default export.
    return (mod.bindingAvailable ?? mod.default?.bindingAvailable) === true;
  } catch {
    return false;
  }
}
