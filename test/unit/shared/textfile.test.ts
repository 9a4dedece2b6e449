import { describe, expect, it } from 'vitest';
import { AUTHORIZED_KEYS, authorizedKeyLine, EXPORTS, exportsLine, HOSTS, hostsLine, KNOWN_HOSTS, knownHostLine, parsePublicKey, SHELL_VARS, shellVarLine, SYSCTL, sysctlLine } from '../../../shared/etc-files.ts';
import { editOwned, splitLines } from '../../../shared/textfile.ts';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyA root@imgs';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyB root@rw';

describe('line-owned editing', () => {
  it('splits keeping every terminator', () => {
    expect(splitLines('a\n\nb')).toEqual(['a\n', '\n', 'b']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\n').join('')).toBe('a\n');
  });

  it('/etc/hosts: the cache split replaces the guide line in place, foreign lines untouched', () => {
    const before = '127.0.0.1 localhost\n# platform\n10.0.2.251 imgs.icbd.local boot.icbd.local root.icbd.local adm-s.icbd.local\n10.0.2.50\tclient01 # lab\n';
    const wanted = [hostsLine('10.0.2.251', ['imgs.icbd.local']), hostsLine('10.1.2.251', ['boot.icbd.local', 'root.icbd.local', 'adm-s.icbd.local'])];
    const after = editOwned(before, HOSTS, wanted);
    expect(after).toBe('127.0.0.1 localhost\n# platform\n10.0.2.251\timgs.icbd.local\n10.1.2.251\tboot.icbd.local root.icbd.local adm-s.icbd.local\n10.0.2.50\tclient01 # lab\n');
    expect(editOwned(after, HOSTS, wanted)).toBe(after);
  });

  it('/etc/hosts: names are matched without case and outside comments', () => {
    const before = '10.9.9.9 IMGS.icbd.local\n# 10.0.0.1 home.icbd.local\n';
    expect(editOwned(before, HOSTS, [hostsLine('10.0.2.251', ['imgs.icbd.local']), hostsLine('10.0.2.12', ['home.icbd.local'])])).toBe(
      '10.0.2.251\timgs.icbd.local\n# 10.0.0.1 home.icbd.local\n10.0.2.12\thome.icbd.local\n',
    );
  });

  it('sysctl.conf: every spelling of the key is the same key, duplicates removed', () => {
    const before = '# comment\nnet/ipv4/ip_forward = 0\nkernel.x=1\n-net.ipv4.ip_forward=0\n; note\n';
    expect(editOwned(before, SYSCTL, [sysctlLine('net.ipv4.ip_forward', '1')])).toBe('# comment\nnet.ipv4.ip_forward=1\nkernel.x=1\n; note\n');
  });

  it('exports: keyed by path, quoted paths included', () => {
    const before = '"/var/lib/icbd/exports" 10.0.0.0/8(ro)\n/srv *(rw)\n';
    expect(editOwned(before, EXPORTS, [exportsLine('/var/lib/icbd/exports', '10.0.2.0/24', ['rw', 'fsid=0'])])).toBe('/var/lib/icbd/exports\t10.0.2.0/24(rw,fsid=0)\n/srv *(rw)\n');
  });

  it('selinux config: SELINUX= replaced, SELINUXTYPE and comments kept', () => {
    const before = '# This file controls the state of SELinux\nSELINUX=enforcing\nSELINUXTYPE=targeted\n';
    expect(editOwned(before, SHELL_VARS, [shellVarLine('SELINUX', 'permissive')])).toBe('# This file controls the state of SELinux\nSELINUX=permissive\nSELINUXTYPE=targeted\n');
  });

  it('authorized_keys: a key is found whatever its options or comment', () => {
    const before = `from="10.0.0.1" ${KEY_A.replace('root@imgs', 'old-comment')}\n${KEY_B}\n`;
    expect(editOwned(before, AUTHORIZED_KEYS, [authorizedKeyLine(KEY_A)])).toBe(`${KEY_A}\n${KEY_B}\n`);
    expect(() => authorizedKeyLine('not a key')).toThrow();
    expect(parsePublicKey('ssh-rsa AAAA$bad')).toBeUndefined();
  });

  it('known_hosts: one line per name and key type, hashed names left alone', () => {
    const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost root@imgs';
    const before = '|1|abc=|def= ssh-ed25519 AAAAhashed\nimgs ssh-ed25519 AAAAold\nimgs ssh-rsa AAAArsa\n';
    expect(editOwned(before, KNOWN_HOSTS, [knownHostLine(['imgs', '10.0.2.251'], hostKey)])).toBe(
      '|1|abc=|def= ssh-ed25519 AAAAhashed\nimgs,10.0.2.251 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\nimgs ssh-rsa AAAArsa\n',
    );
  });
});
