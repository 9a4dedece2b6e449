import { describe, expect, it } from 'vitest';
import { NoSecrets } from '../../../../electron/core/secrets/none.ts';
import { openSecrets } from '../../../../electron/core/secrets/keychain.ts';

describe('secrets without a keychain', () => {
  it('falls back to remembering nothing, and says why', async () => {
    // No session bus and no display: libsecret cannot reach (or autolaunch) any keyring.
    delete process.env.DBUS_SESSION_BUS_ADDRESS;
    delete process.env.DISPLAY;
    const secrets = await openSecrets('icbd-unit-test');
    expect(secrets).toBeInstanceOf(NoSecrets);
    expect(secrets.status).toMatchObject({ backend: 'none', persistent: false });
    expect(secrets.status.reason).toMatch(/no OS keychain answered .*start and unlock a keyring/);
    expect(await secrets.get('anything')).toBeUndefined();
    await expect(secrets.set('ssh-password:root@imgs:22', 'hunter2')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.not.stringContaining('hunter2') });
  });
});
