import { describe, expect, it } from 'vitest';
import { nameFromAlias, proposeHostsFromSshConfig } from '../../../../electron/core/ssh/config-import.ts';
import { inventoryProblems } from '../../../../shared/inventory.ts';

const CONFIG = `
# The lab, as an operator would write it
Host imgs
    HostName 192.168.50.10
    User admin
    Port 2222
    IdentityFile ~/.ssh/icbd_ed25519
    IdentityFile ~/.ssh/id_rsa

Host rw home
    ProxyJump imgs

Host Cache_01 cache02
    HostName %h.icbd.lab
Host cache04
    HostName node4.%d
Host cache03
    HostName 10.213.101.3
    ProxyJump gw,imgs

Host other
    HostName other.example.org
    ProxyJump admin@bastion:2200
    IdentityFile id_local

Host *.lab !bad.lab
    User nobody

Match exec "touch /tmp/icbd-must-not-exist"
    User exec-ran

Host *
    User root
    ServerAliveInterval 15
`;

describe('ssh config import', () => {
  const { proposals, skipped } = proposeHostsFromSshConfig(CONFIG);
  const byName = new Map(proposals.map((p) => [p.host.name, p]));

  it('proposes one host per concrete alias, with OpenSSH first-match values and defaults from Host *', () => {
    expect([...byName.keys()]).toEqual(['imgs', 'rw', 'home', 'cache02', 'cache03', 'other']);
    expect(byName.get('cache02')!.host).toMatchObject({ address: 'cache02.icbd.lab', role: 'cache' });
    expect(byName.get('imgs')!.host).toEqual({ name: 'imgs', address: '192.168.50.10', port: 2222, user: 'admin', role: 'imgs', identityFile: '~/.ssh/icbd_ed25519' });
    expect(byName.get('imgs')!.notes.join(' ')).toMatch(/Only the first IdentityFile/);
    expect(byName.get('rw')!.host).toMatchObject({ address: 'rw', user: 'root', port: 22, role: 'rw', jump: 'imgs' });
    expect(byName.get('home')!.host).toMatchObject({ role: 'home', jump: 'imgs' });
  });

  it('keeps the last ProxyJump hop, and says what it could not carry over', () => {
    expect(byName.get('cache03')!.host).toMatchObject({ address: '10.213.101.3', role: 'cache', jump: 'imgs' });
    expect(byName.get('cache03')!.notes.join(' ')).toMatch(/only the last hop \(imgs\)/);
    const other = byName.get('other')!;
    expect(other.host.jump).toBeUndefined();
    expect(other.host.identityFile).toBeUndefined();
    expect(other.roleGuessed).toBe(false);
    expect(other.notes.join(' ')).toMatch(/names a user or port.*IdentityFile id_local|IdentityFile id_local.*names a user or port/);
  });

  it('skips what cannot become a valid host, saying why, and never runs Match exec', () => {
    expect(skipped.map((s) => s.alias)).toEqual(['Cache_01', 'cache04']);
    expect(skipped[0]!.reason).toMatch(/^address: The address must be/);
    expect(skipped[1]!.reason).toMatch(/%-tokens/);
    expect(proposals.every((p) => p.host.user !== 'exec-ran')).toBe(true);
  });

  it('proposes an inventory without problems (jump hosts exist)', () => {
    expect(inventoryProblems(proposals.map((p) => p.host))).toEqual([]);
  });

  it('turns aliases into valid names', () => {
    expect(nameFromAlias('Cache_01')).toBe('cache-01');
    expect(nameFromAlias('imgs.example.org')).toBe('imgs-example-org');
    expect(nameFromAlias('01-node')).toBe('node');
  });
});
