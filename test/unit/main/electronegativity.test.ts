import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { META_CONTENT_SECURITY_POLICY } from '../../../shared/csp.ts';
import { windowOptions } from '../../../electron/main/window-options.ts';

/**
 * Electronegativity (Doyensec's scanner for Electron security anti-patterns) over the Electron
 * doors and the built renderer page. It exits 0 whatever it finds, so the test reads its report.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RUNNER = fileURLToPath(new URL('./electronegativity-run.mjs', import.meta.url));
const ELECTRON_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;

/**
 * Checks left out, each for a reason:
 * - AvailableSecurityFixesGlobalCheck downloads Electron's release list, and there is no network
 *   here or in CI.
 * - AuxclickJSCheck asks for disableBlinkFeatures: 'Auxclick', a Blink feature Chromium no longer
 *   has (electron/electron#10315: setting it changes nothing). What it guarded against, a middle
 *   click opening a window, is refused by setWindowOpenHandler in electron/main/hardening.ts.
 */
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck', 'AuxclickJSCheck'];

/** Findings reviewed and accepted, each pinned to where it is (and to its exact text where it has one). */
const REVIEWED: { id: string; file: string; sample?: string }[] = [
  // csp-evaluator's remark that script-src 'self' is risky on an origin that hosts JSONP, Angular
  // or user uploads; app://renderer serves the files of the built renderer and nothing else.
  { id: 'CSP_GLOBAL_CHECK', file: 'renderer/index.html', sample: META_CONTENT_SECURITY_POLICY },
  // Asks for a review of any preload. Reviewed: electron/main/preload.ts hands the page only the
  // contract's transport (window.icbd), refuses names outside the contract, exposes no ipcRenderer.
  { id: 'PRELOAD_JS_CHECK', file: 'electron/main/window-options.probe.js' },
];

const isReviewed = (issue: Report['issues'][number]) =>
  REVIEWED.some((r) => r.id === issue.id && r.file === issue.file && (r.sample === undefined || r.sample === issue.sample));

interface Report {
  checks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: { id: string; severity: string; confidence: string; file: string; line: number; sample?: string; description: string }[];
}

function scan(input: string, output: string): Report {
  const run = spawnSync(process.execPath, [RUNNER, input, output, ELECTRON_VERSION, ...EXCLUDED_CHECKS], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`electronegativity failed (${run.status ?? run.signal}):\n${run.stderr}`);
  return JSON.parse(readFileSync(output, 'utf8')) as Report;
}

const above = (report: Report) => report.issues.filter((i) => i.severity !== 'INFORMATIONAL');

let work: string;

beforeAll(async () => {
  // The renderer page is scanned as built; a fresh checkout has not built it yet.
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  work = await mkdtemp(join(tmpdir(), 'icbd-electronegativity-'));
}, 300_000);
afterAll(() => rm(work, { recursive: true, force: true }));

/**
 * What is scanned, copied to one directory so the global checks (CSP, navigation limits,
 * permission handler) see the app whole:
 * - electron/: the doors and the core, without unit specs, which are not shipped;
 * - the built renderer's HTML (its CSP and script tags). Its JS bundle is left out: the tool's
 *   parser rejects class private fields, and that code runs in the sandboxed page, where no
 *   Electron API exists for the checks to find;
 * - package.json, for the Electron version;
 * - the window's options as a literal `new BrowserWindow({...})`: the checks read only literal
 *   options, and window.ts passes them from windowOptions() (hence its eng-disable comment).
 */
async function stageApp(dir: string): Promise<void> {
  await cp(join(ROOT, 'electron'), join(dir, 'electron'), { recursive: true, filter: (src) => !src.endsWith('.spec.ts') });
  await mkdir(join(dir, 'renderer'));
  for (const name of await readdir(join(ROOT, 'out/renderer'))) {
    if (name.endsWith('.html')) await copyFile(join(ROOT, 'out/renderer', name), join(dir, 'renderer', name));
  }
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const options = windowOptions({ preload: '/app/out/electron/main/preload.cjs', dark: false });
  await writeFile(join(dir, 'electron', 'main', 'window-options.probe.js'), `const { BrowserWindow } = require('electron');\nnew BrowserWindow(${JSON.stringify(options, null, 2)});\n`);
}

// A scan takes seconds of CPU; on a busy 2-core machine more than vitest's default 5 s.
describe('electronegativity', { timeout: 120_000 }, () => {
  it('finds nothing above INFORMATIONAL in electron/ and the built renderer page', async () => {
    const app = join(work, 'app');
    await stageApp(app);
    const report = scan(app, join(work, 'app.json'));

    expect(report.checks).toBeGreaterThan(30);
    expect(report.errors.filter((e) => !e.tolerable), 'files the scanner could not read').toEqual([]);
    const unreviewed = above(report).filter((i) => !isReviewed(i));
    expect(unreviewed.map((i) => `${i.severity} ${i.id} ${i.file}:${i.line} ${i.description}`)).toEqual([]);
    const probe = await readFile(join(app, 'electron', 'main', 'window-options.probe.js'), 'utf8');
    expect(probe).toContain('"contextIsolation": true');
  });

  it('does report an unsafe window, so a clean report means something', async () => {
    const unsafe = join(work, 'unsafe');
    await mkdir(unsafe);
    await copyFile(join(ROOT, 'package.json'), join(unsafe, 'package.json'));
    await writeFile(
      join(unsafe, 'main.js'),
      "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { contextIsolation: false, sandbox: false } });\n",
    );
    const ids = above(scan(unsafe, join(work, 'unsafe.json'))).map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK']));
  });
});
