import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nameFromAlias, proposeHostsFromSshConfig, type ImportResult } from '../../../../electron/core/ssh/config-import.ts';
import { readSshConfig } from '../../../../electron/core/ssh/ssh-config.ts';
import { inventoryProblems, type Host } from '../../../../shared/inventory.ts';
import { tempDirs } from '../../../temp-dirs.ts';

/**
 * The import against OpenSSH's own reading of the same files: `ssh -G -F FILE HOST` prints what
 * ssh would use without connecting. OpenSSH takes ~ from the passwd entry, so the import is given
 * that home too, and the Include through ~ reaches this test's directory with ~/../.
 */
const home = userInfo().homedir;
const localUser = userInfo().username;
const dirs = tempDirs('ssh-config', ['conf']);
const MUST_NOT_EXIST = '/tmp/icbd-ssh-config-import-must-not-exist';

const MAIN = (dir: string) => `
# The lab, as an operator would write it
Include ~/${relative(home, dir)}/conf.d/*.conf
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
    ProxyJump admin@bastion:2022,imgs
Host cache05
    HostName 10.213.101.5
    ProxyCommand ssh -W %h:%p gw
Host cache06
    HostName 10.213.101.6
    ProxyCommand exec ssh -q -W [%h]:%p -l ops gw
Host legacy
    HostName 10.9.0.1
    ProxyCommand ssh gw nc %h %p
Host socks
    HostName 10.9.0.2
    ProxyCommand nc -X 5 -x proxy:1080 %h %p

Host other
    HostName other.example.org
    ProxyJump admin@bastion:2200
    IdentityFile id_local

Host web-*
    Include ${dir}/extra/[ab]*.conf

Match originalhost web-1
    Port 2201
Match host *.icbd.lab !host cache02.*
    User labuser
Match user admin host 192.168.*
    Port 2223
Match exec "test -e ${MUST_NOT_EXIST}"
    User exec-ran
Match final host gw.icbd.lab
    Port 2200

Host bastion
    HostName bastion.example.org
    IdentityFile /etc/icbd/bastion_key
Host gw
    HostName %h.icbd.lab
Host gateway
    HostName gw.icbd.lab
Host *.lab !bad.lab
    User nobody
Host *
    User root
    ServerAliveInterval 15
`;

function write(path: string, text: string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/** What OpenSSH resolves for HOST with these command-line options, as key → values. */
function sshG(file: string, args: string[]): Map<string, string[]> {
  const r = spawnSync('ssh', ['-G', '-F', file, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh -G ${args.join(' ')}: ${r.stderr}`);
  const out = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const [key, ...value] = line.split(' ');
    if (key) out.set(key, [...(out.get(key) ?? []), value.join(' ')]);
  }
  return out;
}

describe('ssh config import', () => {
  let file: string;
  let result: ImportResult;
  let byName: Map<string, ImportResult['proposals'][number]>;

  beforeAll(() => {
    const dir = dirs.conf;
    file = join(dir, 'config');
    write(file, MAIN(dir));
    write(join(dir, 'conf.d', '10-home.conf'), 'Host home\n    HostName 192.168.50.12\n    Port 2022\n');
    write(join(dir, 'conf.d', '20-late.conf'), 'Host home\n    HostName never-used\nHost mirror\n    HostName 192.168.50.30\n');
    write(join(dir, 'conf.d', 'ignored.txt'), 'Host ignored\n');
    write(join(dir, 'extra', 'a.conf'), '    User web-a\n');
    write(join(dir, 'extra', 'b-web.conf'), 'Host web-1 web-2\n    HostName %h.web.lab\n');
    write(join(dir, 'extra', 'c.conf'), 'Host web-3\n');
    result = proposeHostsFromSshConfig(readSshConfig(file, home), { localUser, home });
    byName = new Map(result.proposals.map((p) => [p.host.name, p]));
  });

  /** The host NAME of the proposal matches what ssh -G says for ARGS, and so does each jump host of its chain. */
  function expectAsOpenSsh(name: string, args: string[], seen: string[] = []) {
    const g = sshG(file, args);
    const h = byName.get(name)?.host;
    expect(h, `${name} (ssh -G ${args.join(' ')}) is proposed`).toBeDefined();
    expect([h!.address, h!.port, h!.user], `${name}`).toEqual([g.get('hostname')![0], Number(g.get('port')![0]), g.get('user')![0]]);
    const identity = g.get('identityfile')!;
    if (h!.identityFile) expect(h!.identityFile).toBe(identity[0]);
    else expect(identity.includes('~/.ssh/id_rsa') || identity.some((i) => !/^(\/|~\/)/.test(i))).toBe(true);

    const command = /^(?:exec )?ssh (?:-q )?-W \[?%h\]?:%p (?:-l (\S+) )?(\S+)$/.exec(g.get('proxycommand')?.[0] ?? '');
    const chain = g.get('proxyjump')?.[0] ?? (command ? `${command[1] ? `${command[1]}@` : ''}${command[2]}` : undefined);
    if (!chain) {
      expect(h!.jump, `${name} has no jump host`).toBeUndefined();
      return;
    }
    const hops = chain.split(',');
    const [, user, host, port] = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(hops.pop()!)!;
    const hopArgs = [...(user ? ['-l', user] : []), ...(port ? ['-p', port] : []), ...(hops.length ? ['-J', hops.join(',')] : []), host!];
    expect(h!.jump, `${name} goes through ${chain}`).toBeDefined();
    expect(seen).not.toContain(h!.jump);
    expectAsOpenSsh(h!.jump!, hopArgs, [...seen, name]);
  }

  it('resolves every alias, and every hop of its jump chain, as ssh -G does', () => {
    for (const alias of ['imgs', 'rw', 'home', 'mirror', 'cache02', 'cache03', 'cache05', 'cache06', 'other', 'web-1', 'web-2', 'bastion', 'gw']) {
      expectAsOpenSsh(nameFromAlias(alias), [alias]);
    }
  });

  it('follows Include through ~ and globs, in order, and inside a Host block only for its hosts', () => {
    expect(byName.get('home')!.host).toMatchObject({ address: '192.168.50.12', port: 2022, jump: 'imgs' });
    expect(byName.get('mirror')!.host.address).toBe('192.168.50.30');
    expect(byName.has('ignored')).toBe(false);
    expect(byName.get('web-1')!.host).toMatchObject({ address: 'web-1.web.lab', port: 2201, user: 'web-a' });
    expect(byName.has('web-3')).toBe(false);
    expect(byName.get('imgs')!.host.user).toBe('admin');
  });

  it('keeps whole jump chains, each hop with its user and port, reusing a host where ssh reaches it the same way', () => {
    const cache03 = byName.get('cache03')!.host;
    expect(cache03.jump).toBe('imgs-via-bastion-2022');
    expect(byName.get('imgs-via-bastion-2022')!.host).toMatchObject({ address: '192.168.50.10', user: 'admin', port: 2222, jump: 'bastion-2022' });
    expect(byName.get('bastion-2022')!.host).toMatchObject({ address: 'bastion.example.org', user: 'admin', port: 2022, identityFile: '/etc/icbd/bastion_key' });
    expect(byName.get('bastion-2022')!.alias).toBe('admin@bastion:2022');
    expect(byName.get('bastion-2022')!.notes.join(' ')).toMatch(/A jump host, named in a ProxyJump or ProxyCommand as admin@bastion:2022/);
    // ProxyJump imgs with no user or port: the imgs of the file, with its own settings.
    expect(byName.get('rw')!.host.jump).toBe('imgs');
    expect(byName.get('cache05')!.host.jump).toBe('gw');
    expect(byName.get('gw')!.host).toMatchObject({ address: 'gw.icbd.lab', port: 2200, user: 'root' });
    expect(byName.get('cache06')!.host.jump).toMatch(/^gw-/);
    expect(byName.get(byName.get('cache06')!.host.jump!)!.host).toMatchObject({ address: 'gw.icbd.lab', port: 2200, user: 'ops' });
    // Jump hosts come before the hosts behind them, so they can be added in this order.
    const order = result.proposals.map((p) => p.host.name);
    for (const p of result.proposals) if (p.host.jump) expect(order.indexOf(p.host.jump)).toBeLessThan(order.indexOf(p.host.name));
  });

  it('names a ProxyCommand that is not ssh -W as not imported, and skips what cannot become a host, saying why', () => {
    const reasons = new Map(result.skipped.map((s) => [s.alias, s.reason]));
    expect([...reasons.keys()].sort()).toEqual(['Cache_01', 'cache04', 'gateway', 'legacy', 'socks']);
    expect(reasons.get('gateway')).toBe('Reached exactly as gw (address, port, user, key and jump host): proposed once, as gw.');
    expect(reasons.get('legacy')).toMatch(/^ProxyCommand ssh gw nc %h %p is not imported/);
    expect(reasons.get('socks')).toMatch(/^ProxyCommand nc -X 5 -x proxy:1080 %h %p is not imported/);
    expect(reasons.get('Cache_01')).toMatch(/^address: The address must be/);
    expect(reasons.get('cache04')).toMatch(/%-tokens/);
  });

  it('proposes a role only where the name says one, and never runs Match exec', () => {
    const execOnly = join(dirs.conf, 'exec-only');
    write(execOnly, `Match exec "touch ${MUST_NOT_EXIST}"\n    User exec-ran\nHost cache07\n`);
    const { proposals } = proposeHostsFromSshConfig(readSshConfig(execOnly, home), { localUser, home });
    expect(existsSync(MUST_NOT_EXIST)).toBe(false);
    expect(proposals[0]!.host.user).toBe(localUser);
    expect(proposals[0]!.notes).toEqual([`${execOnly} line 1: Match exec touch ${MUST_NOT_EXIST} was not evaluated (the import runs nothing); its settings were left out.`]);

    expect(byName.get('imgs')!.host.role).toBe('imgs');
    expect(byName.get('cache03')!.host.role).toBe('cache');
    for (const name of ['bastion', 'bastion-2022', 'imgs-via-bastion-2022', 'gw', 'mirror', 'other']) expect(byName.get(name)!.host.role, name).toBeUndefined();
    expect(result.proposals.every((p) => p.host.user !== 'exec-ran')).toBe(true);
    expect(byName.get('imgs')!.notes.join(' ')).toMatch(/Match exec test -e .* was not evaluated/);
    expect(byName.get('imgs')!.notes.join(' ')).toMatch(/Only the first IdentityFile/);
    expect(byName.get('other')!.notes.join(' ')).toMatch(/IdentityFile id_local is not an absolute or ~\/ path/);
  });

  it('proposes an inventory without problems once roles are chosen (every jump host exists, no loops)', () => {
    const hosts = result.proposals.map((p): Host => ({ ...p.host, role: p.host.role ?? 'cache' }));
    expect(inventoryProblems(hosts)).toEqual([]);
  });

  it('reads a relative Include from ~/.ssh, and refuses an Include loop in words', () => {
    const fakeHome = join(dirs.conf, 'home');
    write(join(fakeHome, '.ssh', 'config'), 'Include config.d/*\nHost loop\n    Include loop.conf\n');
    write(join(fakeHome, '.ssh', 'config.d', 'a'), 'Host cache09\n    HostName 10.0.0.9\n');
    const { proposals } = proposeHostsFromSshConfig(readSshConfig(join(fakeHome, '.ssh', 'config'), fakeHome), { localUser, home: fakeHome });
    expect(proposals.map((p) => [p.host.name, p.host.address])).toEqual([['cache09', '10.0.0.9'], ['loop', 'loop']]);
    write(join(fakeHome, '.ssh', 'loop.conf'), 'Include loop.conf\n');
    expect(() => readSshConfig(join(fakeHome, '.ssh', 'config'), fakeHome)).toThrow(/Include nested more than 16 deep/);
  });

  it('turns aliases into valid names', () => {
    expect(nameFromAlias('Cache_01')).toBe('cache-01');
    expect(nameFromAlias('imgs.example.org')).toBe('imgs-example-org');
    expect(nameFromAlias('01-node')).toBe('node');
  });
});
