/**
 * The lab on this machine, for real: namespaces, nspawn hosts, loop disks, ssh. Needs root and
 * the packages listed by `labPreflight`; set ICBD_LAB_TESTS=skip to leave it out on a machine
 * that cannot run it (it fails otherwise, so a broken machine is never reported as green).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  labCut, labDown, labHeal, labLeftovers, labLink, labPreflight, labReset, labSelftest, labStart, labStatus, labStop, labUp, sshRun, type LabInfo,
} from '../../electron/core/lab/index.ts';
import { tempDirs } from '../temp-dirs.ts';

const dirs = tempDirs('lab-test', ['lab']);
let info: LabInfo;

const ssh = async (host: string, cmd: string, timeoutMs = 30_000) => {
  const r = await sshRun(dirs.lab, host, cmd, { timeoutMs });
  return { ...r, out: r.stdout.trim() };
};

/** ssh without the jump host, bound to the lab's own link so a probe can never leave the machine. */
const directProbe = (address: string) => {
  try {
    execFileSync('ssh', [
      '-F', '/dev/null', '-i', info.identityFile, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${info.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3',
      '-o', `BindInterface=icbdlab-${info.slot}`, `root@${address}`, 'hostname',
    ], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
};

const hash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const ETC = ['/etc/hostname', '/etc/hosts', '/etc/fstab', '/etc/machine-id'].filter((f) => fs.existsSync(f));
const etcBefore = Object.fromEntries(ETC.map((f) => [f, hash(f)]));
const inotifyBefore = fs.existsSync('/run/icbdlab.inotify-max-user-instances')
  ? `${fs.readFileSync('/run/icbdlab.inotify-max-user-instances', 'utf8').trim()}\n`
  : fs.readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8');

/** Waits for a rebooted host: the marker in /run (a tmpfs) is gone once it booted again. */
async function waitRebooted(host: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await sshRun(dirs.lab, host, 'test ! -e /run/test-marker && systemctl is-system-running --wait', { connectTimeout: 2, timeoutMs: 20_000 });
    if (r.code !== 255 && r.stdout.trim()) return r.stdout.trim();
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${host} did not come back after reboot`);
}

describe.skipIf(process.env.ICBD_LAB_TESTS === 'skip')('iCBD lab', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    const pre = await labPreflight();
    if (!pre.ok) throw new Error(`lab preflight: ${pre.problems.map((p) => `${p.what} (${p.fix})`).join('; ')}`);
    info = await labUp({ dir: dirs.lab, caches: 2, onProgress: (p) => p.step === 'base' && console.log(`lab: ${p.message}`) });
    console.log(`lab up: ${JSON.stringify(info.timings)}`);
  }, 600_000);

  afterAll(async () => {
    await labDown({ dir: dirs.lab });
  }, 120_000);

  it('brings up imgs, rw, home and two caches, each booted with systemd and an empty /dev/vdb', async () => {
    expect(info.hosts.map((h) => `${h.name}:${h.role}:${h.state}`)).toEqual([
      'imgs:imgs:running', 'rw:rw:running', 'home:home:running', 'cache01:cache:running', 'cache02:cache:running',
    ]);
    const answers = await Promise.all(
      info.hosts.map((h) => ssh(h.name, 'hostname; systemctl is-system-running; readlink /proc/1/exe; lsblk -dnb -o SIZE /dev/vdb; blkid -p /dev/vdb; echo blkid=$?')),
    );
    answers.forEach((a, i) => {
      // blkid exit 2: nothing on the disk, not even a partition table
      expect(a.out.split('\n')).toEqual([info.hosts[i]?.name, 'running', '/usr/lib/systemd/systemd', String(4 * 1024 ** 3), 'blkid=2']);
    });
    // private roots: a file written on one host is on no other
    await ssh('rw', 'echo only-rw > /root/mine');
    expect((await ssh('home', 'cat /root/mine')).code).not.toBe(0);
  });

  it('shapes the networks like the guide: imgs outside + iCBD-Net + Adm-Net, caches with their client network', async () => {
    const addrs = async (h: string) => (await ssh(h, "ip -4 -o addr show | awk '$2!=\"lo\"{print $2, $4}'")).out;
    expect(await addrs('imgs')).toBe(`eth0 ${info.hosts[0]?.address}/24\neth1 10.213.2.251/24\neth2 10.213.3.1/24`);
    expect(await addrs('rw')).toBe('eth0 10.213.2.11/24');
    expect(await addrs('cache01')).toBe('eth0 10.213.2.101/24\neth1 10.213.101.251/24');
    expect(await addrs('cache02')).toBe('eth0 10.213.2.102/24\neth1 10.213.102.251/24');
    // iCBD-Net joins the hosts; each cache's client network is its own
    const tcp = (addr: string) => `timeout 3 bash -c 'exec 3<>/dev/tcp/${addr}/22' 2>/dev/null && echo reachable || echo unreachable`;
    expect((await ssh('cache01', tcp('10.213.2.11'))).out).toBe('reachable');
    expect((await ssh('cache01', tcp('10.213.102.251'))).out).toBe('unreachable');
  });

  it('reaches imgs directly and cache01 only through imgs', async () => {
    const imgs = info.hosts.find((h) => h.name === 'imgs')!;
    const cache = info.hosts.find((h) => h.name === 'cache01')!;
    expect(imgs.jump).toBeUndefined();
    expect(cache.jump).toBe('imgs');
    const config = fs.readFileSync(info.sshConfig, 'utf8');
    expect(config).toMatch(/Host cache01\n\s+HostName 10\.213\.2\.101\n\s+ProxyJump imgs/);
    // the acceptance command of the issue, as an operator would type it
    const out = execFileSync('ssh', ['-F', info.sshConfig, 'cache01', 'systemctl is-system-running; lsblk -n /dev/vdb'], { encoding: 'utf8' });
    expect(out).toMatch(/^running\nloop\d+\s+7:\d+\s+0\s+4G\s+0 loop/);
    expect(directProbe(imgs.address)).toBe(true);
    expect(directProbe(cache.address)).toBe(false);
    // and the machine routes nothing of the internal network
    expect(execFileSync('ip', ['route', 'get', cache.address], { encoding: 'utf8' })).not.toContain(`icbdlab-${info.slot}`);
  });

  it('passes its selftest (jump host, mkfs, subvolumes, fstab across reboot, service, send/receive)', async () => {
    const results = await labSelftest({ dir: dirs.lab });
    for (const r of results) console.log(`selftest ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
    expect(results.length).toBeGreaterThanOrEqual(8);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('reboots a host and brings its fstab mounts back (device, subvolume and bind lines)', async () => {
    const setup = [
      'set -e',
      'mkfs.btrfs -q -f /dev/vdb >/dev/null 2>&1',
      'mount /dev/vdb /mnt',
      'btrfs subvolume create /mnt/Lib >/dev/null',
      'mkdir -p /mnt/Lib/icbd/etc-demo',
      'echo from-vdb > /mnt/Lib/icbd/etc-demo/marker',
      'umount /mnt',
      'mkdir -p /var/lib/icbd /etc/demo',
      'echo "UUID=$(blkid -s UUID -o value /dev/vdb) /var/lib/icbd btrfs subvol=Lib 0 0" >> /etc/fstab',
      'echo "/var/lib/icbd/icbd/etc-demo /etc/demo none rbind 0 0" >> /etc/fstab',
      'mount -a',
      'touch /run/test-marker',
    ].join('\n');
    expect((await ssh('home', setup)).code).toBe(0);
    await sshRun(dirs.lab, 'home', 'systemctl reboot', { timeoutMs: 10_000 });
    expect(await waitRebooted('home')).toBe('running');
    expect((await ssh('home', 'findmnt -n -o FSTYPE /var/lib/icbd; cat /etc/demo/marker')).out).toBe('btrfs\nfrom-vdb');
    expect((await labStatus({ dir: dirs.lab }))!.hosts.find((h) => h.name === 'home')!.state).toBe('running');
  });

  it('resets a host to pristine (empty disk, original /etc) in seconds, keeping its host key', async () => {
    const dirty = 'set -e; mkfs.btrfs -q -f /dev/vdb >/dev/null 2>&1; echo "/dev/vdb /srv btrfs defaults 0 0" >> /etc/fstab; mount -a; touch /etc/dirty; systemctl enable --quiet dnsmasq';
    expect((await ssh('rw', dirty)).code).toBe(0);
    const t0 = Date.now();
    await labReset('rw', { dir: dirs.lab });
    console.log(`reset rw: ${Date.now() - t0} ms`);
    // ssh checks the host key strictly: a changed key would fail here
    const after = await ssh('rw', 'systemctl is-system-running; blkid -p /dev/vdb; echo blkid=$?; test -e /etc/dirty && echo dirty; grep -c vdb /etc/fstab; systemctl is-enabled dnsmasq; test -e /root/mine && echo mine');
    expect(after.out).toBe('running\nblkid=2\n0\ndisabled');
    await expect(labReset('nosuchhost', { dir: dirs.lab })).rejects.toThrow(/no host "nosuchhost"/);
  });

  it('stops and starts a host (unreachable while stopped, no process left)', async () => {
    await labStop('cache02', { dir: dirs.lab });
    expect((await labStatus({ dir: dirs.lab }))!.hosts.find((h) => h.name === 'cache02')!.state).toBe('stopped');
    expect((await sshRun(dirs.lab, 'cache02', 'true', { connectTimeout: 3 })).code).toBe(255);
    const inCgroup = fs.readFileSync(`/sys/fs/cgroup/${fs.existsSync('/sys/fs/cgroup/unified') ? 'unified/' : ''}icbdlab-${info.slot}/cache01/cgroup.procs`, 'utf8');
    expect(inCgroup.trim()).not.toBe(''); // the other hosts run on
    expect(fs.existsSync(`/sys/fs/cgroup/${fs.existsSync('/sys/fs/cgroup/unified') ? 'unified/' : ''}icbdlab-${info.slot}/cache02`)).toBe(false);
    await labStart('cache02', { dir: dirs.lab });
    expect((await ssh('cache02', 'systemctl is-system-running')).out).toBe('running');
  });

  it('cuts and heals a host link: a running transfer stalls, then completes', async () => {
    const lines: string[] = [];
    const child = spawn('ssh', ['-F', info.sshConfig, 'cache01', 'i=0; while [ $i -lt 30 ]; do echo $i; i=$((i+1)); sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const done = new Promise<number>((res) => child.on('close', (c) => res(c ?? -1)));
    while (lines.length < 3) await new Promise((r) => setTimeout(r, 20));
    await labCut('cache01', { dir: dirs.lab });
    expect((await labStatus({ dir: dirs.lab }))!.hosts.find((h) => h.name === 'cache01')!.state).toBe('cut');
    await new Promise((r) => setTimeout(r, 800));
    const stalledAt = lines.length;
    expect((await sshRun(dirs.lab, 'cache01', 'true', { connectTimeout: 3 })).code).toBe(255);
    expect(lines.length).toBe(stalledAt);
    expect(lines.length).toBeLessThan(30);
    expect((await ssh('imgs', 'hostname')).out).toBe('imgs');
    await labHeal('cache01', { dir: dirs.lab });
    expect(await done).toBe(0);
    expect(lines).toHaveLength(30);
    expect((await ssh('cache01', 'hostname')).out).toBe('cache01');
  });

  it('gets packages from the site mirror: imgs directly, a cache through imgs; any other site is refused', async () => {
    expect(info.mirror).toBe(`http://10.213.${200 + info.slot}.1:3143/`);
    const install = 'export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends hdparm >/dev/null && hdparm -V';
    for (const host of ['imgs', 'cache02']) {
      const r = await ssh(host, install, 300_000);
      expect(r.out, r.stderr).toMatch(/^hdparm v\d/);
    }
    expect((await ssh('cache02', 'apt-config dump Acquire::http::Proxy')).out).toBe('Acquire::http::Proxy "http://10.213.2.251:3128/";');
    // the mirror serves its Debian remap only: a request for anything else never leaves it
    const other = await ssh('imgs', '/usr/lib/apt/apt-helper download-file http://example.org/ /tmp/other 2>&1');
    expect(other.code).not.toBe(0);
    expect(other.out).toMatch(/403/);
  });

  it('gives each host a link of its own with a rate both ways, kept across cut and heal; status shows it', async () => {
    await expect(labLink('cache01', 'fast', { dir: dirs.lab })).rejects.toThrow(/bad link rate "fast"/);
    await expect(labLink('cache09', '10mbit', { dir: dirs.lab })).rejects.toThrow(/no host "cache09"/);
    await labLink('cache01', '50mbit', { dir: dirs.lab });
    await labLink('cache02', '50mbit', { dir: dirs.lab });
    const links = () => labStatus({ dir: dirs.lab }).then((s) => Object.fromEntries(s!.hosts.map((h) => [h.name, h.link ?? 'unshaped'])));
    expect(await links()).toEqual({ imgs: 'unshaped', rw: 'unshaped', home: 'unshaped', cache01: '50mbit', cache02: '50mbit' });
    // one ssh connection per cache kept open, so the figures are the links', not the handshakes'
    const ctl = (h: string) => path.join(dirs.lab, `${h}.ctl`);
    const opts = (h: string) => ['-F', info.sshConfig, '-o', `ControlPath=${ctl(h)}`];
    // -f leaves a master in the background: it must not hold this process's pipes
    for (const h of ['cache01', 'cache02']) execFileSync('ssh', [...opts(h), '-o', 'ControlMaster=yes', '-fN', h], { stdio: 'ignore', timeout: 30_000 });
    const bytes = 25_000_000; // 4 s at 50 Mbit/s
    const timed = (h: string, cmd: string) =>
      new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        const c = spawn('sh', ['-c', cmd.replace('SSH', `ssh ${opts(h).join(' ')} ${h}`)], { stdio: 'ignore' });
        c.on('close', (code) => (code === 0 ? resolve((bytes * 8) / ((Date.now() - t0) / 1000) / 1e6) : reject(new Error(`${h}: exit ${code}`))));
      });
    // both caches at once: two links, each with its own rate
    const down = await Promise.all(['cache01', 'cache02'].map((h) => timed(h, `head -c ${bytes} /dev/zero | SSH 'cat >/dev/null'`)));
    const up = await Promise.all(['cache01', 'cache02'].map((h) => timed(h, `SSH 'head -c ${bytes} /dev/zero' >/dev/null`)));
    console.log(`50mbit links, Mbit/s: to the caches ${down.map((x) => x.toFixed(1)).join(', ')}; from them ${up.map((x) => x.toFixed(1)).join(', ')}`);
    for (const rate of [...down, ...up]) {
      expect(rate).toBeGreaterThan(42);
      expect(rate).toBeLessThan(55);
    }
    for (const h of ['cache01', 'cache02']) execFileSync('ssh', [...opts(h), '-O', 'exit', h], { stdio: 'ignore', timeout: 30_000 });

    await labCut('cache01', { dir: dirs.lab });
    expect((await ssh('cache01', 'true')).code).toBe(255);
    await labHeal('cache01', { dir: dirs.lab });
    expect((await ssh('cache01', 'hostname')).out).toBe('cache01');
    const qdisc = execFileSync('tc', ['-n', `icbdlab-${info.slot}-sw`, 'qdisc', 'show', 'dev', 'cache01-eth0'], { encoding: 'utf8' });
    expect(qdisc).toMatch(/tbf .*rate 50Mbit/);
    expect(await links()).toMatchObject({ cache01: '50mbit' });

    for (const h of ['cache01', 'cache02']) await labLink(h, 'off', { dir: dirs.lab });
    expect(await links()).toMatchObject({ cache01: 'unshaped', cache02: 'unshaped' });
    expect(execFileSync('tc', ['-n', `icbdlab-${info.slot}-sw`, 'qdisc', 'show', 'dev', 'cache01-eth0'], { encoding: 'utf8' })).not.toMatch(/tbf/);
    expect(execFileSync('ip', ['-n', `icbdlab-${info.slot}-sw`, '-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/cache0\d-in/);
  });

  it('refuses a bad --link before it makes anything', async () => {
    const other = path.join(dirs.lab, 'not-made');
    await expect(labUp({ dir: other, links: 'cache05=10mbit' })).rejects.toThrow(/no host "cache05"/);
    await expect(labUp({ dir: other, links: 'cache01:10mbit' })).rejects.toThrow(/bad link "cache01:10mbit"/);
    expect(fs.existsSync(other)).toBe(false);
  });

  it('down leaves nothing behind, and up with the cached base is quick', async () => {
    const slot = info.slot;
    await labDown({ dir: dirs.lab });
    expect(await labLeftovers(slot, dirs.lab)).toEqual([]);
    expect(await labStatus({ dir: dirs.lab })).toBeNull();
    expect(execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' })).not.toContain(dirs.lab);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dirs.lab);

    const again = await labUp({ dir: dirs.lab, caches: 1 });
    console.log(`up with cached base: ${again.timings?.upWithCachedBaseMs} ms`);
    expect(again.timings?.upWithCachedBaseMs).toBeDefined();
    expect((await ssh('cache01', 'systemctl is-system-running')).out).toBe('running');
    // a lab whose processes all died: down must still find and remove everything
    const unified = fs.existsSync('/sys/fs/cgroup/unified') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
    fs.writeFileSync(`${unified}/icbdlab-${again.slot}/cgroup.kill`, '1');
    await labDown({ dir: dirs.lab });
    expect(await labLeftovers(again.slot, dirs.lab)).toEqual([]);
    for (const f of ETC) expect(hash(f)).toBe(etcBefore[f]);
    // The raised inotify limit goes back to the machine's own once no lab is up (other labs may
    // be up beside this one on a developer's machine; in CI this is the only one).
    if (!fs.existsSync('/run/icbdlab')) expect(fs.readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8')).toBe(inotifyBefore);
  });

  it('cleans up a half-built lab when up is cancelled', async () => {
    const ctl = new AbortController();
    let slot = -1;
    const up = labUp({
      dir: dirs.lab,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.step === 'network') {
          slot = JSON.parse(fs.readFileSync(path.join(dirs.lab, 'lab.json'), 'utf8')).slot;
          ctl.abort();
        }
      },
    });
    await expect(up).rejects.toThrow(/cancelled/);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(await labLeftovers(slot, dirs.lab)).toEqual([]);
    expect(fs.existsSync(path.join(dirs.lab, 'lab.json'))).toBe(false);
  });
});
