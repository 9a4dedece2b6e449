import { describe, expect, it } from 'vitest';
import { address, hostName, isAddress, userName } from '../../../shared/names.ts';

describe('host names', () => {
  it.each(['imgs', 'rw', 'home', 'cache01', 'a', 'cache-02'])('accepts %s', (n) => expect(hostName.safeParse(n).success).toBe(true));
  it.each(['', 'Cache01', '01cache', 'cache-', 'ca che', 'a;b', '$(id)', '../x', 'cáche', 'x'.repeat(33), '-rf'])('rejects %j', (n) =>
    expect(hostName.safeParse(n).success).toBe(false),
  );
});

describe('addresses', () => {
  it.each(['10.0.2.251', 'imgs.icbd.local', '::1', 'fe80::1%eth0', 'fe80::1%2', 'localhost', '2001:db8::42', '::ffff:10.0.2.251'])('accepts %s', (a) =>
    expect(isAddress(a)).toBe(true),
  );
  it.each(['', '10.0.2', '300.1.1.1', 'a b', 'host:22', 'x;reboot', '$(id)', '-oProxyCommand=x', 'host/..', 'é.pt', '1:2:3', ':::::', '1::2::3', 'fe80::1%', 'fe80::1%eth0%x', 'fe80::1%$(id)', '12345::1'])('rejects %j', (a) =>
    expect(address.safeParse(a).success).toBe(false),
  );
});

describe('user names', () => {
  it.each(['root', 'icbd', '_svc', 'a-b'])('accepts %s', (u) => expect(userName.safeParse(u).success).toBe(true));
  it.each(['Root', '1x', 'a b', 'x'.repeat(33), '-o'])('rejects %j', (u) => expect(userName.safeParse(u).success).toBe(false));
});
