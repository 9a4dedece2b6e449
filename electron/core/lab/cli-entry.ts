/**
 * Temporary command line for the lab until it is folded into `icbd lab ...`:
 *   tsx electron/core/lab/cli-entry.ts up|down|status|reset [HOST]|stop H|start H|cut H|heal H|selftest|preflight
 *     [--caches N] [--nfs] [--dir D]
 */
import {
  LabError, labCut, labDown, labHeal, labPreflight, labReset, labSelftest, labStart, labStatus, labStop, labUp, type LabInfo, type LabProgress,
} from './index.ts';

function parse(argv: string[]) {
  const pos: string[] = [];
  const o: { caches?: number; nfs?: boolean; dir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--caches') o.caches = Number(argv[++i]);
    else if (a === '--nfs') o.nfs = true;
    else if (a === '--dir') o.dir = argv[++i];
    else if (a.startsWith('--')) throw new LabError(`unknown option ${a}`, 'see the usage at the top of cli-entry.ts');
    else pos.push(a);
  }
  return { cmd: pos[0] ?? 'status', host: pos[1], o };
}

const onProgress = (p: LabProgress) =>
  console.log(`[${p.fraction === undefined ? '   ' : `${String(Math.round(p.fraction * 100)).padStart(3)}%`}] ${p.step}: ${p.message}`);

const secs = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

function printInfo(info: LabInfo) {
  console.log(`lab in ${info.dir} (slot ${info.slot})`);
  for (const h of info.hosts) {
    console.log(`  ${h.name.padEnd(8)} ${h.role.padEnd(6)} ${h.state.padEnd(8)} ${h.address}:${h.port}${h.jump ? ` via ${h.jump}` : ''}`);
  }
  const t = info.timings ?? {};
  console.log('timings:');
  if (t.upFromEmptyCacheMs !== undefined) console.log(`  up from empty cache:  ${secs(t.upFromEmptyCacheMs)} (base build ${secs(t.baseBuildMs)})`);
  if (t.upWithCachedBaseMs !== undefined) console.log(`  up with cached base:  ${secs(t.upWithCachedBaseMs)}`);
  for (const [k, v] of Object.entries(t)) if (k.startsWith('reset.')) console.log(`  reset ${k.slice(6, -2).padEnd(15)} ${secs(v)}`);
  console.log(`ssh config:  ${info.sshConfig}   (ssh -F ${info.sshConfig} cache01 hostname)`);
  console.log(`known_hosts: ${info.knownHosts}`);
}

async function main() {
  const { cmd, host, o } = parse(process.argv.slice(2));
  const needHost = () => {
    if (!host) throw new LabError(`${cmd} needs a host name`, `lab ${cmd} HOST`);
    return host;
  };
  switch (cmd) {
    case 'preflight': {
      const r = await labPreflight({ nfs: o.nfs });
      for (const p of r.problems) console.log(`problem: ${p.what}; fix: ${p.fix}`);
      console.log(r.ok ? 'ok' : 'not ok');
      return r.ok ? 0 : 1;
    }
    case 'up':
      printInfo(await labUp({ ...o, onProgress }));
      return 0;
    case 'down':
      await labDown({ dir: o.dir, onProgress });
      console.log('lab down');
      return 0;
    case 'status': {
      const info = await labStatus(o);
      if (info) printInfo(info);
      else console.log('no lab is up');
      return 0;
    }
    case 'reset':
      await labReset(host, { dir: o.dir, onProgress });
      printInfo((await labStatus(o))!);
      return 0;
    case 'stop':
      await labStop(needHost(), { dir: o.dir, onProgress });
      return 0;
    case 'start':
      await labStart(needHost(), { dir: o.dir, onProgress });
      return 0;
    case 'cut':
      await labCut(needHost(), o);
      return 0;
    case 'heal':
      await labHeal(needHost(), o);
      return 0;
    case 'selftest': {
      const res = await labSelftest({ dir: o.dir, onProgress });
      for (const r of res) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${secs(r.ms)}): ${r.detail}`);
      return res.every((r) => r.ok) ? 0 : 1;
    }
    default:
      throw new LabError(`unknown command ${cmd}`, 'use up, down, status, reset, stop, start, cut, heal, selftest or preflight');
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof LabError) console.error(`error: ${e.message}\nfix: ${e.fix}`);
    else console.error(e);
    process.exit(1);
  },
);
