/**
 * The keychain against a real GNOME Keyring on a private D-Bus (test/keyring-session.ts): a round
 * trip in the Secret Service, and the entries iCBD Console 0.1 saved through keytar. The session
 * without a Secret Service is keychain-none.test.ts (keyring-rs keeps one D-Bus connection per process).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AuthenticationType } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeychainSecrets, openSecrets } from '../../electron/core/secrets/keychain.ts';
import { SecretToolEntries } from '../../electron/core/secrets/keytar-legacy.ts';
import { accounts } from '../../electron/core/secrets/secrets.ts';
import { Credentials } from '../../electron/core/ssh/credentials.ts';
import type { Host } from '../../shared/inventory.ts';
import type { SecretQuestion } from '../../shared/ssh.ts';
import { KeyringSession } from '../keyring-session.ts';
import { tempDirs } from '../temp-dirs.ts';

const dirs = tempDirs('keychain', ['work']);
const service = `icbd-test-${randomBytes(4).toString('hex')}`;
const account = accounts.password('root', '10.0.0.2', 22);
let keyring: KeyringSession | undefined;


describe('the OS keychain (GNOME Keyring through keyring-rs)', () => {
  beforeAll(async () => {
    keyring = await KeyringSession.start(join(dirs.work, 'keyring'), { secretService: true });
    // keyring-rs connects once per process, to the bus a desktop session names here.
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  });

  afterAll(() => keyring?.stop());

  it('keeps a secret in the Secret Service: set, read back, delete', async () => {
    const secrets = await openSecrets(service);
    expect(secrets.status).toEqual({ backend: 'keychain', persistent: true });
    await secrets.set(account, 'pw with spaces and ünïcode');
    expect(await secrets.get(account)).toBe('pw with spaces and ünïcode');
    // Filed in the keyring daemon itself, where secret-tool (libsecret) sees it too.
    expect(keyring!.secretTool(['lookup', 'service', service, 'username', account]).stdout).toBe('pw with spaces and ünïcode');
    expect(await secrets.delete(account)).toBe(true);
    expect(await secrets.get(account)).toBeUndefined();
    expect(await secrets.delete(account)).toBe(false);
  });

  it("finds a password saved by 0.1 (keytar's service/account) and moves it into the new form", async () => {
    const old = accounts.sudo('admin', '10.0.0.3', 2222);
    // What keytar wrote through libsecret: the generic schema, attributes service and account.
    expect(keyring!.secretTool(['store', '--label', 'keytar entry', 'service', service, 'account', old], 'saved-by-keytar').status).toBe(0);
    const secrets = await openSecrets(service);
    expect(await secrets.get(old)).toBe('saved-by-keytar');
    expect(keyring!.secretTool(['lookup', 'service', service, 'account', old]).status).toBe(1);
    expect(keyring!.secretTool(['lookup', 'service', service, 'username', old]).stdout).toBe('saved-by-keytar');
    expect(secrets.missingNote).toBeUndefined();

    // Forgetting a password forgets both forms.
    keyring!.secretTool(['store', '--label', 'keytar entry', 'service', service, 'account', old], 'saved-again-by-keytar');
    expect(await secrets.delete(old)).toBe(true);
    expect(keyring!.secretTool(['lookup', 'service', service, 'account', old]).status).toBe(1);
    expect(await secrets.get(old)).toBeUndefined();
  });

  it('says why a password is asked again when the old entries cannot be read (no secret-tool)', async () => {
    const old = accounts.password('root', '10.0.0.4', 22);
    keyring!.secretTool(['store', '--label', 'keytar entry', 'service', service, 'account', old], 'unreachable');
    const mod = await import('@napi-rs/keyring');
    const secrets = new KeychainSecrets(mod, service, new SecretToolEntries(service, join(dirs.work, 'no-such-secret-tool')));
    expect(secrets.missingNote).toBeUndefined();
    // The question a connection asks once the server offers password authentication (ssh2 passes null first).
    const questions: SecretQuestion[] = [];
    const host: Host = { name: 'imgs', address: '10.0.0.4', port: 22, user: 'root', role: 'imgs' };
    const credentials = new Credentials({ host, secrets, sshDir: dirs.work, askSecret: async (q) => (questions.push(q), 'typed again') });
    const next = (left: AuthenticationType[] | null) => new Promise<unknown>((resolve) => credentials.handler(left as AuthenticationType[], false, resolve as never));
    expect(await next(null)).toMatchObject({ type: 'none' });
    expect(await next(['password'])).toMatchObject({ type: 'password', password: 'typed again' });
    expect(questions).toHaveLength(1);
    expect(questions[0]!.reason).toMatch(/^None is stored in the keychain; a password saved by iCBD Console 0\.1 \(keytar\) .* only with secret-tool \(apt-get install libsecret-tools\); typed once more, it is kept in the new form\.$/);
  });

});
