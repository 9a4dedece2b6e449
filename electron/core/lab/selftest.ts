import { LabError } from './errors.ts';
import { runRaw, sleep } from './exec.ts';
import { labDir, sshPaths } from './paths.ts';
import { labLink, labReset, labStatus } from './lab.ts';
import { parseRate } from './links.ts';
import { sshRun } from './ssh-files.ts';
import { labNames } from './topology.ts';

export interface SelftestResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

const FSTAB_MARK = '# icbd-lab selftest';

/** The shaped link the selftest measures, and how long the measure lasts (the size follows the rate). */
export const SELFTEST_RATE = '100mbit';
const MEASURE_SECONDS = 10;
const TOLERANCE = 0.1;

/**
 * Proves the lab does what the installer and the replication need: SSH through the jump host
 * only, systemd, an empty disk to mkfs, subvolumes, fstab mounts that survive a reboot, a
 * service enabled and running, btrfs send/receive between hosts, a shaped link's rate. It changes
 * imgs and cache01 and resets both at the end (cache01's link rate is put back as it was).
 */
export async function labSelftest(opts: { dir?: string; onProgress?: (p: { step: string; message: string }) => void } = {}): Promise<SelftestResult[]> {
  const dir = labDir(opts.dir);
  const info = await labStatus({ dir });
  if (!info) throw new LabError(`no lab is up in ${dir}`, 'run `lab up` first');
  const results: SelftestResult[] = [];
  const names = info.hosts.map((h) => h.name);
  const cache = info.hosts.find((h) => h.role === 'cache')!;
  const ssh = async (host: string, cmd: string, input?: string) => {
    const r = await sshRun(dir, host, cmd, { input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: \`${cmd}\` exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-400)}`);
    return r.stdout.trim();
  };
  const step = async (name: string, fn: () => Promise<string>) => {
    opts.onProgress?.({ step: 'selftest', message: name });
    const t0 = Date.now();
    try {
      results.push({ name, ok: true, detail: await fn(), ms: Date.now() - t0 });
    } catch (e) {
      results.push({ name, ok: false, detail: (e as Error).message, ms: Date.now() - t0 });
    }
  };
  const expect = (cond: boolean, what: string) => {
    if (!cond) throw new Error(what);
  };

  await step('ssh to imgs directly and to the others through imgs', async () => {
    const got = await Promise.all(names.map((h) => ssh(h, 'hostname')));
    expect(got.join(' ') === names.join(' '), `hostnames: ${got.join(' ')}`);
    return got.join(', ');
  });

  await step(`${cache.name} is not reachable from the runner's lab link`, async () => {
    // bound to the lab's own interface, so a probe can never leave the machine by its default route
    const probe = (addr: string) =>
      runRaw('ssh', [
        '-F', '/dev/null', '-i', sshPaths(dir).identity, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${sshPaths(dir).knownHosts}`,
        '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3',
        '-o', `BindInterface=${labNames(info.slot).runnerIf}`, `root@${addr}`, 'true',
      ]);
    const direct = await probe(cache.address);
    expect(direct.code !== 0, `ssh root@${cache.address} without the jump host succeeded`);
    const imgs = await probe(info.hosts.find((h) => h.role === 'imgs')!.address);
    expect(imgs.code === 0, `control probe to imgs failed: ${imgs.stderr.trim()}`);
    return `direct: ${direct.stderr.trim().split('\n').pop()}`;
  });

  await step('systemd running and an empty /dev/vdb on every host', async () => {
    const out = await Promise.all(
      names.map((h) => ssh(h, 'systemctl is-system-running; test -b /dev/vdb; blkid -p /dev/vdb >/dev/null && echo HAS-FS; lsblk -dnb -o SIZE /dev/vdb')),
    );
    out.forEach((o, i) => expect(/^running\n\d+$/.test(o), `${names[i]}: ${o.replace(/\n/g, ' | ')}`));
    return out.map((o, i) => `${names[i]}: ${o.replace(/\n/g, ' ')}`).join('; ');
  });

  const pair = ['imgs', cache.name];
  const fstabSetup = [
    'set -e',
    'mkfs.btrfs -q -f /dev/vdb >/dev/null 2>&1',
    'mkdir -p /mnt/top /srv/lab /srv/data',
    'mount /dev/vdb /mnt/top',
    'btrfs subvolume create /mnt/top/Lib >/dev/null',
    'btrfs subvolume create /mnt/top/Lib/data >/dev/null',
    'umount /mnt/top',
    `echo "${FSTAB_MARK}" >> /etc/fstab`,
    'echo "UUID=$(blkid -s UUID -o value /dev/vdb) /srv/lab btrfs subvol=Lib 0 0" >> /etc/fstab',
    'echo "/srv/lab/data /srv/data none rbind 0 0" >> /etc/fstab',
    'mount -a',
    'findmnt --verify >/dev/null',
    'findmnt -n -o FSTYPE /srv/lab',
  ].join('\n');
  await step('mkfs.btrfs on /dev/vdb, subvolumes, fstab lines mounted', async () => {
    const out = await Promise.all(pair.map((h) => ssh(h, fstabSetup)));
    out.forEach((o, i) => expect(o === 'btrfs', `${pair[i]}: /srv/lab is ${o}`));
    return pair.join(', ');
  });

  await step(`a service enabled and running on ${cache.name}`, async () => {
    const out = await ssh(cache.name, 'systemctl enable --now --quiet apache2 && systemctl is-active apache2 && systemctl is-enabled apache2');
    expect(out === 'active\nenabled', out);
    return 'apache2 active, enabled';
  });

  await step(`${cache.name} reboots with its fstab mounts and services`, async () => {
    await ssh(cache.name, 'touch /run/icbd-lab-before-reboot');
    await sshRun(dir, cache.name, 'systemctl reboot', { timeoutMs: 10_000 });
    const deadline = Date.now() + 60_000;
    let out = '';
    while (Date.now() < deadline) {
      const r = await sshRun(dir, cache.name, 'test ! -e /run/icbd-lab-before-reboot && systemctl is-system-running --wait; findmnt -n -o FSTYPE /srv/lab; findmnt -n -o TARGET /srv/data; systemctl is-active apache2', { connectTimeout: 2, timeoutMs: 30_000 });
      if (r.code !== 255 && r.stdout.trim().startsWith('running')) {
        out = r.stdout.trim();
        break;
      }
      await sleep(200);
    }
    expect(out === 'running\nbtrfs\n/srv/data\nactive', `after reboot: ${out.replace(/\n/g, ' | ') || 'no answer in 60 s'}`);
    return out.replace(/\n/g, ', ');
  });

  await step(`btrfs send imgs → ${cache.name} receive`, async () => {
    await ssh('imgs', 'set -e; rm -f /root/.ssh/id_ed25519*; ssh-keygen -q -t ed25519 -N "" -f /root/.ssh/id_ed25519');
    await ssh(cache.name, 'cat >> /root/.ssh/authorized_keys', await ssh('imgs', 'cat /root/.ssh/id_ed25519.pub'));
    const send = [
      'set -e',
      'btrfs subvolume create /srv/lab/img >/dev/null',
      'head -c 16777216 /dev/urandom > /srv/lab/img/disk.vmdk',
      'btrfs subvolume snapshot -r /srv/lab/img /srv/lab/img@1 >/dev/null',
      `btrfs send -q /srv/lab/img@1 | ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new root@${cache.address} btrfs receive -q /srv/lab/`,
      'sha256sum < /srv/lab/img@1/disk.vmdk',
      "btrfs subvolume show /srv/lab/img@1 | awk '$1==\"UUID:\"{print $2}'",
    ].join('\n');
    const [sum, uuid] = (await ssh('imgs', send)).split('\n');
    const [sum2, ruuid] = (
      await ssh(cache.name, "sha256sum < /srv/lab/img@1/disk.vmdk; btrfs subvolume show /srv/lab/img@1 | awk '$1==\"Received\"{print $3}'")
    ).split('\n');
    expect(!!sum && sum === sum2, `checksums differ: ${sum} / ${sum2}`);
    expect(uuid === ruuid, `received_uuid ${ruuid} != uuid ${uuid}`);
    return `16 MiB, sha256 ${sum?.slice(0, 12)}…, received_uuid ${ruuid}`;
  });

  await step(`a ${SELFTEST_RATE} link to ${cache.name}, measured with btrfs send | ssh | btrfs receive (±${TOLERANCE * 100} %)`, async () => {
    const bps = parseRate(SELFTEST_RATE)!;
    const bytes = Math.round((bps / 8) * MEASURE_SECONDS);
    const before = cache.link ?? 'off';
    await labLink(cache.name, SELFTEST_RATE, { dir });
    try {
      const send = [
        'set -e',
        'btrfs subvolume create /srv/lab/link >/dev/null',
        // random data: neither ssh nor btrfs can make it smaller than it is
        `head -c ${bytes} /dev/urandom > /srv/lab/link/data`,
        'btrfs subvolume snapshot -r /srv/lab/link /srv/lab/link@1 >/dev/null',
        'sync',
        // the connection is opened before the clock starts: the figure is the link's, not ssh's handshake
        `ssh -o BatchMode=yes -o ControlMaster=yes -o ControlPath=/run/icbd-selftest.ctl -fN root@${cache.address}`,
        't0=$(date +%s%N)',
        `btrfs send -q /srv/lab/link@1 | ssh -o ControlPath=/run/icbd-selftest.ctl root@${cache.address} btrfs receive -q /srv/lab/`,
        't1=$(date +%s%N)',
        `ssh -o ControlPath=/run/icbd-selftest.ctl -O exit root@${cache.address} 2>/dev/null`,
        'echo $(( (t1 - t0) / 1000000 ))',
      ].join('\n');
      const ms = Number(await ssh('imgs', send));
      const got = (bytes * 8) / (ms / 1000);
      const off = got / bps - 1;
      const figure = `${(bytes / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(2)} s = ${(got / 1e6).toFixed(1)} Mbit/s (${off >= 0 ? '+' : ''}${(off * 100).toFixed(1)} % of ${SELFTEST_RATE})`;
      expect(Math.abs(off) <= TOLERANCE, figure);
      return figure;
    } finally {
      await labLink(cache.name, before, { dir });
    }
  });

  await step(`reset returns imgs and ${cache.name} to pristine`, async () => {
    const t0 = Date.now();
    await Promise.all(pair.map((h) => labReset(h, { dir })));
    const ms = Date.now() - t0;
    const out = await Promise.all(
      pair.map(async (h) => {
        const r = await sshRun(dir, h, `systemctl is-system-running; blkid -p /dev/vdb >/dev/null && echo HAS-FS; grep -c "${FSTAB_MARK}" /etc/fstab; systemctl is-enabled apache2`);
        return r.stdout.trim();
      }),
    );
    out.forEach((o, i) => expect(o === 'running\n0\ndisabled', `${pair[i]} after reset: ${o.replace(/\n/g, ' | ')}`));
    return `${pair.length} hosts in ${(ms / 1000).toFixed(1)} s`;
  });

  return results;
}
