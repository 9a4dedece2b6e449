/**
 * The machine's packages the test suites need, in one list, with why. `npm test` runs this file
 * first: as root on Debian or Ubuntu it installs what is missing and says what and why; elsewhere
 * it prints the one command to run, and every suite that needs a missing package fails with that
 * same message (test/setup/require-*.ts), never a skip, never a pass.
 *
 *   npx tsx test/setup/system-packages.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { NFS_RUNNER_PACKAGES, RUNNER_PACKAGES } from '../../electron/core/lab/preflight.ts';

export const NEEDS = {
  unit: { why: 'the known_hosts unit tests check the files they write with ssh-keygen', packages: ['openssh-client'] },
  lab: {
    why: 'the lab: real hosts (systemd in network namespaces, btrfs on loop devices), its NFS tier under qemu, and the apt cache its hosts install through',
    packages: [...RUNNER_PACKAGES, ...NFS_RUNNER_PACKAGES, 'util-linux', 'psmisc', 'apt-cacher-ng'],
  },
  sshd: { why: 'the SSH tests run their own sshd, ssh-agent and sudo', packages: ['openssh-server', 'openssh-client', 'sudo', 'procps'] },
  keyring: {
    why: "the keychain tests use a real GNOME Keyring on a private D-Bus; secret-tool writes and reads the entries iCBD Console 0.1 (keytar) saved",
    packages: ['gnome-keyring', 'dbus', 'libsecret-tools'],
  },
  clone: { why: 'the fresh-clone test clones the checkout with git', packages: ['git'] },
  browser: { why: "the browser end-to-end tests drive Debian's Chromium through playwright-core", packages: ['chromium', 'fonts-liberation'] },
} as const satisfies Record<string, { why: string; packages: readonly string[] }>;

export type Need = keyof typeof NEEDS;

const isDebian = () => existsSync('/usr/bin/dpkg-query') && /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(readFileSync('/etc/os-release', 'utf8'));

/** Packages of these needs that are not installed. dpkg-query only: fast, nothing fetched. */
export function missingPackages(needs: readonly Need[]): string[] {
  const wanted = [...new Set(needs.flatMap((n) => NEEDS[n].packages))];
  if (!isDebian()) return wanted;
  // One call for all; an unknown package makes dpkg-query exit 1 but still print the others.
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...wanted], { encoding: 'utf8' });
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([, status]) => status === 'ii')
      .map(([name]) => name),
  );
  return wanted.filter((p) => !installed.has(p));
}

export const installCommand = (packages: readonly string[]) => `sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`;

/** The words a suite fails with, and the script prints, when packages are missing. */
export function missingMessage(needs: readonly Need[], missing: readonly string[]): string {
  const why = needs
    .filter((n) => NEEDS[n].packages.some((p) => missing.includes(p)))
    .map((n) => `  ${NEEDS[n].packages.filter((p) => missing.includes(p)).join(', ')}: ${NEEDS[n].why}`);
  const where = isDebian() ? '' : ' (Debian and Ubuntu names: install the equivalents with your package manager)';
  return `Missing system packages:\n${why.join('\n')}\nInstall them with${where}:\n  ${installCommand(missing)}\n(npm test run as root on Debian or Ubuntu installs them itself.)`;
}

/** For a suite's setup file: throws the message above when any package of these needs is missing. */
export function requireSystemPackages(...needs: Need[]): void {
  const missing = missingPackages(needs);
  if (missing.length) throw new Error(missingMessage(needs, missing));
}

function main(): number {
  const needs = Object.keys(NEEDS) as Need[];
  const missing = missingPackages(needs);
  if (!missing.length) return 0;
  if (process.getuid?.() !== 0 || !isDebian()) {
    console.error(`${missingMessage(needs, missing)}\nThe suites that need them will fail with this message.`);
    return 0;
  }
  console.error(`Installing system packages the tests need (npm test runs as root on ${isDebian() ? 'Debian/Ubuntu' : 'this system'}):`);
  for (const n of needs) {
    const pkgs = NEEDS[n].packages.filter((p) => missing.includes(p));
    if (pkgs.length) console.error(`  ${pkgs.join(', ')}: ${NEEDS[n].why}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch {
    console.error(`apt-get could not install them; fix the error above, or run:\n  ${installCommand(missing)}`);
    return 1;
  }
  const still = missingPackages(needs);
  if (still.length) {
    console.error(`Still missing after apt-get: ${still.join(' ')}`);
    return 1;
  }
  console.error('Installed.');
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main();
