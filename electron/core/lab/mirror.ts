import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { debianMirror } from './base-image.ts';
import { LabError } from './errors.ts';
import { sleep } from './exec.ts';
import { launch, type Unit } from './host.ts';
import { cacheDir } from './paths.ts';
import { imgsInternal, labNames, MIRROR_PORT, RELAY_PORT, type Topology } from './topology.ts';

/**
 * The site's package mirror: Debian's apt-cacher-ng, run by `lab up` in the machine's own
 * namespace (it must reach the machine's package source) and bound only to the runner's address
 * on the lab's outside network, so only imgs reaches it. The hosts on iCBD-Net reach it through
 * imgs, on the port of the guide's squid service (open in imgs's internal zone): a relay in imgs's
 * network namespace, outside its container (topology.ts has the addresses). apt-cacher-ng serves only its Debian remap
 * (ForceManaged), backed by the machine's own source: no other address is ever fetched.
 */
export const mirrorUnit = (dir: string, slot: number): Unit => ({ dir, slot, spec: { name: 'mirror' } });
export const relayUnit = (dir: string, slot: number): Unit => ({ dir, slot, spec: { name: 'mirror-relay' } });

/** The mirror's own files: configuration and logs in the lab dir, the package cache kept across labs. */
export function mirrorPaths(dir: string, slot: number) {
  const root = path.join(dir, 'mirror');
  return { root, conf: path.join(root, 'conf'), log: path.join(root, 'log'), cache: path.join(cacheDir(), `apt-cacher-ng-${slot}`) };
}

function writeConfig(dir: string, topo: Topology): void {
  const p = mirrorPaths(dir, topo.slot);
  for (const d of [p.conf, p.log, p.cache]) fs.mkdirSync(d, { recursive: true });
  const conf = [
    `CacheDir: ${p.cache}`,
    `LogDir: ${p.log}`,
    'SupportDir: /usr/lib/apt-cacher-ng',
    `Port: ${MIRROR_PORT}`,
    `BindAddress: ${topo.runnerAddress}`,
    `SocketPath: ${path.join(p.root, 'socket')}`,
    `PidFile: ${path.join(p.root, 'pid')}`,
    'ForeGround: 1',
    // only the Debian remap below: a request for any other site is refused, never fetched
    'ForceManaged: 1',
    'Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian',
    'ExThreshold: 4',
    'ReportPage: acng-report.html',
  ];
  fs.writeFileSync(path.join(p.conf, 'acng.conf'), `${conf.join('\n')}\n`);
  fs.writeFileSync(path.join(p.conf, 'backends_debian'), `${debianMirror().replace(/\/?$/, '/')}\n`);
}

// A TCP relay, one connection per client, each a pair of piped sockets; run by node in imgs's namespace.
const RELAY = `const net = require('node:net');
const [listenHost, listenPort, toHost, toPort] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(toPort), toHost);
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
}).listen(Number(listenPort), listenHost, () => console.log('relay ' + listenHost + ':' + listenPort + ' -> ' + toHost + ':' + toPort));`;

/** Resolves when `addr:port` accepts a connection (a local address only: runner or inside a namespace via the caller). */
async function waitListening(addr: string, port: number, what: string, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: addr, port, timeout: 1000 }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
      s.on('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(100);
  }
  throw new LabError(`the lab's ${what} does not listen on ${addr}:${port}`, `read ${log}`);
}

/** Starts the mirror and imgs's relay (both in the lab's cgroup, so `down` stops them with the hosts). */
export async function startMirror(dir: string, topo: Topology): Promise<void> {
  writeConfig(dir, topo);
  const p = mirrorPaths(dir, topo.slot);
  const acng = mirrorUnit(dir, topo.slot);
  await launch(acng, ['apt-cacher-ng', '-c', p.conf]);
  // the runner's address is local to this namespace: this connection never leaves the machine
  await waitListening(topo.runnerAddress, MIRROR_PORT, 'package mirror (apt-cacher-ng)', path.join(p.log, 'apt-cacher.err'));
  const relay = relayUnit(dir, topo.slot);
  const imgsNs = labNames(topo.slot).hostNs('imgs');
  await launch(relay, ['ip', 'netns', 'exec', imgsNs, 'env', 'ELECTRON_RUN_AS_NODE=1', process.execPath, '-e', RELAY, imgsInternal(topo), String(RELAY_PORT), topo.runnerAddress, String(MIRROR_PORT)]);
}

