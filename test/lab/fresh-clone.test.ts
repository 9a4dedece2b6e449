/**
 * Issue 15's promise, on a second checkout: a fresh `git clone` of this one's commit, installed
 * with `npm ci --ignore-scripts` (so nothing can be compiled, as on a machine with no compiler),
 * passes the unit tests, a keychain round trip against a real GNOME Keyring and a terminal on a
 * real pty. The registry is reached through npm's own client (`--prefer-offline`: its cache first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../temp-dirs.ts';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const dirs = tempDirs('fresh-clone', ['work']);
const clone = () => join(dirs.work, 'icbd-console');

/**
 * The environment of a shell, not of this test worker: no vitest variables, no session bus, and
 * none of the npm_* that `npm test` sets for its scripts (npm_config_local_prefix names this checkout).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST$|NODE_OPTIONS$|DBUS_SESSION_BUS_ADDRESS$|npm_|INIT_CWD$)/.test(k)));
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${cwd}: ${r.error?.message ?? `exit ${r.status}`}\n${out.slice(-6000)}`);
  return out;
}

/** "Tests  472 passed (472)" from vitest's summary, colours stripped. */
function passed(out: string): { passed: number; total: number } {
  // eslint-disable-next-line no-control-regex
  const m = out.replace(/\x1b\[[0-9;]*m/g, '').match(/Tests\s+(\d+) passed \((\d+)\)/);
  if (!m) throw new Error(`no vitest summary in:\n${out.slice(-3000)}`);
  return { passed: Number(m[1]), total: Number(m[2]) };
}

describe('a fresh clone installed with npm ci --ignore-scripts', () => {
  beforeAll(() => {
    const head = run('git', ['rev-parse', 'HEAD'], CHECKOUT, 30_000).trim();
    run('git', ['clone', '--quiet', '--no-checkout', CHECKOUT, clone()], dirs.work, 120_000);
    run('git', ['checkout', '--quiet', '--detach', head], clone(), 60_000);
    run('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], clone(), 480_000);
  }, 660_000);

  it('has compiled nothing, and has the prebuilt pty and keychain binaries for this platform', () => {
    const modules = join(clone(), 'node_modules');
    expect(existsSync(join(modules, 'ssh2/lib/protocol/crypto/build')), "ssh2's optional binding").toBe(false);
    for (const scope of ['@lydell', '@napi-rs']) {
      const prebuilt = readdirSync(join(modules, scope)).filter((d) => d.includes(process.platform));
      expect(prebuilt.length, `${scope}'s ${process.platform} package`).toBeGreaterThan(0);
    }
  });

  it('builds, and passes the unit tests', () => {
    // As `npm test` does: the packaging tests check what the build wrote to out/.
    run('npm', ['run', 'build'], clone(), 300_000);
    // The clone runs beside the rest of the lab group on a shared machine: slower than alone.
    const out = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', 'unit', '--testTimeout=30000'], clone(), 600_000);
    const r = passed(out);
    expect(r.passed).toBe(r.total);
    expect(r.total).toBeGreaterThan(400);
  }, 960_000);

  it('keeps a secret in a real GNOME Keyring and runs a shell on a real pty', () => {
    const files = ['test/lab/keychain.test.ts', 'test/lab/keychain-none.test.ts', 'test/lab/local-terminal.test.ts'];
    const out = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', 'lab', ...files], clone(), 300_000);
    expect(passed(out)).toEqual({ passed: 5, total: 5 });
  }, 330_000);
});
