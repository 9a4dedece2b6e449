/**
 * How long "check this host" takes on a fully installed cache node: the installer's plan (one
 * batched read of the host, every step planned) against ansible-playbook --check of the same
 * checks (test/bench/ansible/cache-check.yml), in one run on a lab of its own. Prints figures and
 * the ratio; asserts nothing. The goal is at most a tenth of Ansible's time.
 *
 *   tsx test/bench/install-check.bench.ts        (root; apt-get install ansible-core first)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Core } from '../../electron/core/core.ts';
import { labDown, sshRun } from '../../electron/core/lab/index.ts';
import type { InstallRequest } from '../../shared/install.ts';
import { installLabUp, LAB_PLATFORM } from '../lab/install-lab.ts';

const RUNS = 5;
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ANSIBLE_DIR = path.join(import.meta.dirname, 'ansible');

async function main(): Promise<void> {
  const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-install-lab-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'icbd-bench-install-'));
  const core = new Core({ home, door: 'cli', asker: { askHostKey: async () => false, askSecret: async () => undefined } });
  try {
    // python3, which Ansible needs on the host, is in the lab's base already
    const info = await installLabUp(core, labDir);
    const request: InstallRequest = { host: 'cache01', role: 'cache', platform: LAB_PLATFORM, cache: { number: 1, clientSubnet: '10.213.101.0/24' }, nfs: false };
    const { jobId } = await core.call('install.apply', { ...request, confirmDisk: '/dev/vdb' });
    const end = await core.jobs.wait(jobId);
    if (end.state !== 'done') throw new Error(`install failed: ${end.error?.message}`);

    await core.call('install.plan', request); // the SSH connection is opened once, as a window has it open
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const plan = await core.call('install.plan', request);
      ours.push(performance.now() - t0);
      if (plan.changes !== 0) throw new Error(`the installed node plans ${plan.changes} changes`);
    }

    const uuid = (await sshRun(labDir, 'cache01', 'blkid -L icbd | xargs blkid -s UUID -o value')).stdout.trim();
    const inventory = path.join(home, 'ansible-inventory.ini');
    fs.writeFileSync(inventory, `[cache]\ncache01 ansible_user=root ansible_ssh_common_args="-F ${info.sshConfig}"\n`);
    const vars = JSON.stringify({ lib_uuid: uuid, imgs: LAB_PLATFORM.imgs, home: LAB_PLATFORM.home, data: LAB_PLATFORM.data, cache_client: '10.213.101.251' });
    const ansible: number[] = [];
    let recap = '';
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await run('ansible-playbook', ['--check', '-i', inventory, '-e', vars, path.join(ANSIBLE_DIR, 'cache-check.yml')], {
        cwd: ANSIBLE_DIR,
        env: { ...process.env, ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, 'ansible.cfg') },
        maxBuffer: 16 * 1024 * 1024,
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`ansible-playbook failed: ${e.stdout?.slice(-2000) ?? ''}${e.stderr ?? e.message}`);
      });
      ansible.push(performance.now() - t0);
      recap = /cache01\s+:.*/.exec(r.stdout)?.[0] ?? '';
    }

    const [a, b] = [median(ours), median(ansible)];
    console.log(`install.plan on an installed cache01, median of ${RUNS}: ${a.toFixed(0)} ms  (runs: ${ours.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`ansible-playbook --check, median of ${RUNS}:          ${b.toFixed(0)} ms  (runs: ${ansible.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`ansible recap: ${recap}`);
    console.log(`ratio: ${(a / b).toFixed(3)} of Ansible's time (goal: at most 0.1)`);
  } finally {
    await core.close();
    await labDown({ dir: labDir });
    fs.rmSync(labDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

await main();
