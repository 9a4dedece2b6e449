/**
 * A desktop session whose bus has no Secret Service: keyring-rs would fall back to the kernel
 * keyring, which forgets at reboot; pinned to the Secret Service, the app says "no keychain" and
 * why. A file of its own: keyring-rs keeps its first D-Bus connection for the life of the process.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecrets } from '../../electron/core/secrets/keychain.ts';
import { NoSecrets } from '../../electron/core/secrets/none.ts';
import { accounts } from '../../electron/core/secrets/secrets.ts';
import { KeyringSession } from '../keyring-session.ts';
import { tempDirs } from '../temp-dirs.ts';

const dirs = tempDirs('keychain-none', ['work']);
let bare: KeyringSession | undefined;

describe('a session bus without a Secret Service', () => {
  beforeAll(async () => {
    bare = await KeyringSession.start(join(dirs.work, 'bare'), { secretService: false });
    process.env.DBUS_SESSION_BUS_ADDRESS = bare.address;
  });

  afterAll(() => bare?.stop());

  it('is "no keychain", with the reason, not the kernel keyring', async () => {
    const secrets = await openSecrets('icbd-test-no-secret-service');
    expect(secrets).toBeInstanceOf(NoSecrets);
    expect(secrets.status).toMatchObject({ backend: 'none', persistent: false });
    expect(secrets.status.reason).toMatch(/^no OS keychain answered \(.*org\.freedesktop\.secrets.*\); start and unlock a keyring \(GNOME Keyring or KWallet\) to remember passwords\.$/);
    await expect(secrets.set(accounts.password('root', '10.0.0.2', 22), 'x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
