import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Entries written by iCBD Console 0.1, which used keytar. On macOS keytar and keyring-rs file a
 * generic password under the same service and account, so the new store finds those itself; on
 * Windows keytar named the credential `service/account`; on Linux libsecret filed it under the
 * attributes `service` and `account`, where keyring-rs looks for `service` and `username`, and
 * only libsecret's own secret-tool can read it back without a D-Bus client of our own.
 */
export interface LegacyEntries {
  get(account: string): Promise<string | undefined>;
  delete(account: string): Promise<void>;
  /** Said beside a prompt once the old entries proved unreadable here, so a second question is explained. */
  readonly unreadable: string | undefined;
}

export const NO_LEGACY_ENTRIES: LegacyEntries = { get: async () => undefined, delete: async () => undefined, unreadable: undefined };

const NO_SECRET_TOOL =
  'a password saved by iCBD Console 0.1 (keytar) is filed in a form this version reads only with secret-tool (apt-get install libsecret-tools); typed once more, it is kept in the new form.';

/** Linux: secret-tool prints the secret as stored (no newline added) and exits 1 when there is none. */
export class SecretToolEntries implements LegacyEntries {
  unreadable: string | undefined;

  constructor(
    private readonly service: string,
    private readonly secretTool = 'secret-tool',
  ) {}

  async get(account: string): Promise<string | undefined> {
    const value = await this.#tool('lookup', account);
    return value === '' ? undefined : value;
  }

  async delete(account: string): Promise<void> {
    await this.#tool('clear', account);
  }

  async #tool(verb: 'lookup' | 'clear', account: string): Promise<string | undefined> {
    try {
      // Only names are in the arguments; the secret comes back on stdout.
      return (await run(this.secretTool, [verb, 'service', this.service, 'account', account], { timeout: 10_000, encoding: 'utf8' })).stdout;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.unreadable = NO_SECRET_TOOL;
      return undefined;
    }
  }
}
