import type * as KeytarModule from 'keytar';
import { AppError } from '../../../shared/errors.ts';
import type { SecretsStatus } from '../../../shared/ssh.ts';
import { NoSecrets } from './none.ts';
import { SECRET_SERVICE, type Secrets } from './secrets.ts';

type Keytar = typeof KeytarModule;

/** The OS keychain through keytar (libsecret on Linux, Keychain on macOS, Credential Vault on Windows). */
export class KeytarSecrets implements Secrets {
  readonly status: SecretsStatus = { backend: 'keychain', persistent: true };

  constructor(
    private readonly keytar: Keytar,
    private readonly service = SECRET_SERVICE,
  ) {}

  async get(account: string): Promise<string | undefined> {
    return (await this.#call(() => this.keytar.getPassword(this.service, account))) ?? undefined;
  }

  async set(account: string, value: string): Promise<void> {
    await this.#call(() => this.keytar.setPassword(this.service, account, value));
  }

  async delete(account: string): Promise<boolean> {
    return this.#call(() => this.keytar.deletePassword(this.service, account));
  }

  // A keychain error names the keychain's problem (locked, no daemon), never the secret.
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new AppError('UNAVAILABLE', `The OS keychain did not answer: ${(err as Error).message}. Unlock or start it (GNOME Keyring, KWallet, macOS Keychain) and try again.`);
    }
  }
}

/**
 * The keychain if one answers, else NoSecrets saying why. keytar is loaded here, lazily, because
 * its native module fails to load where libsecret is missing, and that must not stop the app.
 */
export async function openSecrets(service = SECRET_SERVICE): Promise<Secrets> {
  let keytar: Keytar;
  try {
    const mod = (await import('keytar')) as Keytar & { default?: Keytar };
    keytar = mod.default ?? mod;
  } catch (err) {
    return new NoSecrets(`the keychain library could not be loaded (${(err as Error).message}); install libsecret-1-0 to remember passwords.`);
  }
  try {
    // A read of an account that never exists: proves the keychain daemon answers without prompting.
    await keytar.getPassword(service, 'icbd-probe');
  } catch (err) {
    return new NoSecrets(`no OS keychain answered (${(err as Error).message}); start and unlock a keyring (GNOME Keyring or KWallet) to remember passwords.`);
  }
  return new KeytarSecrets(keytar, service);
}
