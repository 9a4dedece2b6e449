import fs from 'node:fs';
import { LabError } from './errors.ts';
import { run, runRaw } from './exec.ts';
import { hostPaths, sshPaths } from './paths.ts';
import type { Topology } from './topology.ts';

async function keygen(file: string, comment: string): Promise<void> {
  if (fs.existsSync(file) && fs.existsSync(`${file}.pub`)) return;
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

export const ensureOperatorKey = (dir: string) => keygen(sshPaths(dir).identity, 'icbd-lab-operator');

/** Host keys live outside the host's root so that a reset keeps them and known_hosts stays true. */
export const ensureHostKey = (dir: string, host: string) => keygen(hostPaths(dir, host).hostKey, `root@${host}`);

function quote(p: string): string {
  if (/["\n\r]/.test(p)) throw new LabError(`unusable path for an ssh config: ${p}`, 'choose a lab dir without quotes or newlines');
  return /\s/.test(p) ? `"${p}"` : p;
}

/**
 * The OpenSSH files an operator (or the tests) use: `ssh -F <config> cache01` goes through imgs
 * exactly as the guide's topology requires, and host keys are checked strictly.
 */
export function writeSshFiles(dir: string, topo: Topology): { config: string; knownHosts: string; identity: string } {
  const p = sshPaths(dir);
  const names = topo.hosts.map((h) => h.name);
  const lines = [
    `# iCBD lab (slot ${topo.slot}), written by \`lab up\`. Use: ssh -F ${quote(p.config)} <host>`,
    '',
  ];
  for (const h of topo.hosts) {
    lines.push(`Host ${h.name}`, `  HostName ${h.address}`);
    if (h.jump) lines.push(`  ProxyJump ${h.jump}`);
    lines.push('');
  }
  lines.push(
    `Host ${names.join(' ')}`,
    '  User root',
    '  Port 22',
    `  IdentityFile ${quote(p.identity)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quote(p.knownHosts)}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  ConnectTimeout 10',
    '  ServerAliveInterval 5',
    '  ServerAliveCountMax 3',
    '',
  );
  fs.writeFileSync(p.config, lines.join('\n'));
  const known = topo.hosts.map((h) => {
    const pub = fs.readFileSync(`${hostPaths(dir, h.name).hostKey}.pub`, 'utf8').trim().split(/\s+/);
    return `${h.name},${h.address} ${pub[0]} ${pub[1]}`;
  });
  fs.writeFileSync(p.knownHosts, `${known.join('\n')}\n`);
  return { config: p.config, knownHosts: p.knownHosts, identity: p.identity };
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` on a lab host as root through the lab's own ssh config (jump included). */
export function sshRun(
  dir: string,
  host: string,
  command: string,
  opts: { timeoutMs?: number; input?: string | Buffer; connectTimeout?: number } = {},
): Promise<SshResult> {
  const args = ['-F', sshPaths(dir).config, '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${opts.connectTimeout ?? 5}`, host, command];
  return runRaw('ssh', args, { timeoutMs: opts.timeoutMs ?? 60_000, input: opts.input });
}
