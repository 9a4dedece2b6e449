import type * as KeyringModule from '@napi-rs/keyring';
import { AppError } from '../../../shared/errors.ts';
import type { SecretsStatus } from '../../../shared/ssh.ts';
import { NO_LEGACY_ENTRIES, SecretToolEntries, type LegacyEntries } from './keytar-legacy.ts';
import { NoSecrets } from './none.ts';
import { SECRET_SERVICE, type Secrets } from './secrets.ts';

type Keyring = typeof KeyringModule;

/**
 * On Linux keyring-rs falls back to the kernel keyring when no Secret Service answers, and that
 * keyring forgets everything at reboot: a keychain that silently stops remembering is worse than
 * none, so entries are pinned to the Secret Service (which throws instead). This is also why the
 * package's keytar-compatible module is not used as is: it cannot pass this option.
 */
const PINNED: KeyringModule.EntryOptions = { linux: { store: 'secret-service' } };

/** The OS keychain through keyring-rs (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows). */
export class KeychainSecrets implements Secrets {
  readonly status: SecretsStatus = { backend: 'keychain', persistent: true };

  constructor(
    private readonly keyring: Keyring,
    private readonly service = SECRET_SERVICE,
    private readonly legacy: LegacyEntries = NO_LEGACY_ENTRIES,
  ) {}

  get missingNote(): string | undefined {
    return this.legacy.unreadable;
  }

  /** An entry of this version, else one of 0.1's, moved into this version's form on first use. */
  async get(account: string): Promise<string | undefined> {
    const value = await this.#call(() => this.#entry(account).getPassword());
    if (value !== null) return value;
    const old = await this.legacy.get(account);
    if (old === undefined) return undefined;
    await this.set(account, old);
    await this.legacy.delete(account);
    return old;
  }

  async set(account: string, value: string): Promise<void> {
    await this.#call(() => this.#entry(account).setPassword(value));
  }

  async delete(account: string): Promise<boolean> {
    await this.legacy.delete(account);
    return this.#call(() => this.#entry(account).deletePassword());
  }

  #entry(account: string): KeyringModule.AsyncEntry {
    return new this.keyring.AsyncEntry(this.service, account, PINNED);
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

/** keytar on Windows named a credential `service/account`; keyring-rs reads it when given that target. */
class WindowsKeytarEntries implements LegacyEntries {
  readonly unreadable = undefined;

  constructor(
    private readonly keyring: Keyring,
    private readonly service: string,
  ) {}

  async get(account: string): Promise<string | undefined> {
    return (await this.#entry(account).getPassword().catch(() => null)) ?? undefined;
  }

  async delete(account: string): Promise<void> {
    await this.#entry(account).deletePassword().catch(() => false);
  }

  #entry(account: string): KeyringModule.AsyncEntry {
    return this.keyring.AsyncEntry.withTarget(`${this.service}/${account}`, this.service, account);
  }
}

function legacyEntries(keyring: Keyring, service: string): LegacyEntries {
  if (process.platform === 'linux') return new SecretToolEntries(service);
  if (process.platform === 'win32') return new WindowsKeytarEntries(keyring, service);
  return NO_LEGACY_ENTRIES;
}

/**
 * The keychain if one answers, else NoSecrets saying why. The native module is loaded here,
 * lazily, so that a platform without its binary still runs the app, remembering nothing.
 */
export async function openSecrets(service = SECRET_SERVICE): Promise<Secrets> {
  let keyring: Keyring;
  try {
    const mod = (await import('@napi-rs/keyring')) as Keyring & { default?: Keyring };
    keyring = mod.default ?? mod;
  } catch (err) {
    return new NoSecrets(`the keychain library could not be loaded (${(err as Error).message}); reinstall the app (npm ci, without --omit=optional) to remember passwords.`);
  }
  try {
    // A read of an account that never exists: proves the keychain daemon answers without prompting.
    await new keyring.AsyncEntry(service, 'icbd-probe', PINNED).getPassword();
  } catch (err) {
    return new NoSecrets(`no OS keychain answered (${(err as Error).message}); start and unlock a keyring (GNOME Keyring or KWallet) to remember passwords.`);
  }
  return new KeychainSecrets(keyring, service, legacyEntries(keyring, service));
}
