import type { SecretsStatus } from '../../../shared/ssh.ts';

/**
 * Where passwords and passphrases live: the OS keychain, or nowhere. Nothing else in the app
 * stores, logs or sends a secret; callers hold one only long enough to hand it to ssh2 or sudo.
 */
export interface Secrets {
  readonly status: SecretsStatus;
  get(account: string): Promise<string | undefined>;
  /** Throws UNAVAILABLE, with the reason, when nothing can be remembered. */
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
  /** Why a secret may be asked for again though one was saved (by an earlier version), if so. */
  readonly missingNote?: string;
}

/** The keychain "service" under which every entry of the app is filed. */
export const SECRET_SERVICE = 'iCBD Console';

/**
 * Account names: what a secret unlocks, never the secret. Keyed by network identity (user,
 * address, port) rather than inventory name, so renaming a host keeps its password.
 */
export const accounts = {
  password: (user: string, address: string, port: number) => `ssh-password:${user}@${address}:${port}`,
  sudo: (user: string, address: string, port: number) => `sudo-password:${user}@${address}:${port}`,
  passphrase: (keyFile: string) => `key-passphrase:${keyFile}`,
};
