import { Ajv } from 'ajv';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { installCli } from '../../../electron/main/install-cli.ts';
import { tempDirs } from '../../temp-dirs.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path));
const pkg = JSON.parse(read('package.json').toString()) as { main: string; productName: string; dependencies: Record<string, string>; allowScripts: Record<string, boolean> };

interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { buildResources: string; output: string };
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  extraMetadata: { desktopName: string };
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; category: string; icon: string; executableName: string; description: string; desktop: { entry: Record<string, string> } };
  win: { target: string[]; icon: string };
  mac: { target: string[]; category: string; icon: string };
}
const config = parse(read('build/electron-builder.yml').toString()) as BuilderConfig;

/** Width and height from a PNG's IHDR chunk. */
function pngSize(path: string): [number, number] {
  const bytes = read(path);
  expect(bytes.subarray(1, 4).toString(), `${path} is a PNG`).toBe('PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

/** electron-builder looks a resource up in buildResources first, then in the project. */
const resource = (path: string) => [join(config.directories.buildResources, path), path].find((p) => existsSync(join(ROOT, p)));

describe('build/electron-builder.yml', () => {
  it("matches electron-builder's own schema", () => {
    const schema = JSON.parse(read('node_modules/app-builder-lib/scheme.json').toString()) as object;
    // strict: false as in electron-builder's validator: the schema marks JS-only options (hooks,
    // desktop entries given as functions) with a non-standard `typeof` keyword.
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(config);
    expect(validate.errors ?? [], 'schema errors').toEqual([]);
    expect(valid).toBe(true);
  });

  it('names the app as package.json does and writes to dist/ with resources from build/', () => {
    expect(config.appId).toBe('pt.unl.fct.icbd.console');
    expect(config.productName).toBe(pkg.productName);
    expect(config.directories).toEqual({ buildResources: 'build', output: 'dist' });
  });

  it('builds AppImage, deb and rpm for Linux, an NSIS installer for Windows and a dmg for macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb', 'rpm']);
    expect(config.linux.category).toBe('System');
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.category).toBe('public.app-category.utilities');
  });

  it("packages out/, where package.json's main points and where the build writes it", () => {
    expect(pkg.main.startsWith('out/')).toBe(true);
    expect(config.files).toContain('out/**');
    expect(config.files).toContain('package.json');
    expect(read('build/bundle-electron.mjs').toString()).toContain(`outfile: '${pkg.main}'`);
    for (const file of config.files.filter((f) => !f.startsWith('!') && !f.includes('*'))) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });

  it('unpacks native modules from the asar archive, and rebuilds nothing for Electron', () => {
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.asarUnpack).toContain('node_modules/@lydell/node-pty-*/**');
    // Prebuilt N-API binaries only: no compiler when packaging, and no binary built for Node's ABI inside.
    expect(config.npmRebuild).toBe(false);
    for (const prebuilt of ['@lydell/node-pty', '@napi-rs/keyring']) expect(pkg.dependencies).toHaveProperty(prebuilt);
    for (const gone of ['node-pty', 'keytar']) {
      expect(pkg.dependencies).not.toHaveProperty(gone);
      expect(pkg.allowScripts).not.toHaveProperty(gone);
    }
    expect(config.files).toContain('!node_modules/ssh2/lib/protocol/crypto/build/**');
    const bundle = read('build/bundle-electron.mjs').toString();
    for (const external of ['@lydell/node-pty', '@napi-rs/keyring']) expect(bundle).toContain(`'${external}'`);
  });

  it('turns off the Electron features the app does not use', () => {
    expect(config.electronFuses).toMatchObject({
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});

describe('icons', () => {
  it('has a PNG per size from 16 to 512 for Linux, each of its stated size', () => {
    const dir = resource(config.linux.icon);
    expect(dir, config.linux.icon).toBeDefined();
    const sizes = [16, 24, 32, 48, 64, 128, 256, 512];
    expect(readdirSync(join(ROOT, dir!)).sort()).toEqual(sizes.map((s) => `${s}x${s}.png`).sort());
    for (const size of sizes) expect(pngSize(join(dir!, `${size}x${size}.png`))).toEqual([size, size]);
  });

  it('has icon.png at 512, the .ico for Windows and the .icns for macOS, and their source SVG', () => {
    expect(pngSize('resources/icon.png')).toEqual([512, 512]);
    const ico = resource(config.win.icon);
    expect(ico, config.win.icon).toBeDefined();
    expect([...read(ico!).subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    const icns = resource(config.mac.icon);
    expect(icns, config.mac.icon).toBeDefined();
    expect(read(icns!).subarray(0, 4).toString()).toBe('icns');
    expect(read('resources/icon.svg').toString()).toMatch(/^<svg [^>]*viewBox="0 0 512 512"/);
  });
});

describe('resources/icbd-console.desktop', () => {
  const file = `resources/${config.extraMetadata.desktopName}`;
  const entry = Object.fromEntries(
    read(file)
      .toString()
      .split('\n')
      .filter((line) => line.includes('=') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

  it('is the launcher electron-builder writes for the packages, key for key', () => {
    expect(basename(file)).toBe('icbd-console.desktop');
    expect(entry).toMatchObject({
      Type: 'Application',
      Name: config.productName,
      Comment: config.linux.description,
      Icon: config.linux.executableName,
      Terminal: 'false',
      StartupWMClass: config.extraMetadata.desktopName.replace(/\.desktop$/, ''),
      ...config.linux.desktop.entry,
    });
    expect(entry.Exec).toBe(`${config.linux.executableName} %U`);
    expect(entry.Categories).toBe(`${config.linux.category};`);
  });
});

/**
 * The CLI in the packages (issue 15): bundled like the main process, run by the app's Electron as
 * Node from /usr/bin/icbd, with completions and a man page made from the command table. Reads
 * what `npm run build` wrote to out/ (npm test builds first).
 */
// Each test runs Node processes: seconds each on a loaded machine.
describe('the CLI in the packages', { timeout: 60_000 }, () => {
  const built = (path: string) => {
    if (!existsSync(join(ROOT, path))) throw new Error(`${path} is missing: run npm run build first.`);
    return path;
  };
  const fpm = (target: 'deb' | 'rpm') => Object.fromEntries(((config as unknown as Record<string, { fpm: string[] }>)[target]!.fpm).map((pair) => pair.split('=') as [string, string]).map(([from, to]) => [to, from]));
  const APP = `/opt/${config.productName}`;
  const launcher = read('build/linux/icbd').toString();

  it('is bundled by the same script as the main process, from the CLI door, to out/cli/icbd.cjs', () => {
    const script = read('build/bundle-electron.mjs').toString();
    expect(script).toContain("build({ ...common, entryPoints: ['electron/cli/cli.ts'], outfile: 'out/cli/icbd.cjs' })");
    const bundle = read(built('out/cli/icbd.cjs')).toString();
    // Nothing but Node's own modules and the native externals the packaged node_modules holds.
    const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!));
    const outside = [...required].filter((m) => !builtinModules.includes(m.replace(/^node:/, '')) && !m.startsWith('node:'));
    for (const m of outside) expect(pkg.dependencies, `${m} is a production dependency`).toHaveProperty(m.split('/').slice(0, m.startsWith('@') ? 2 : 1).join('/'));
    expect(outside.every((m) => ['ssh2', '@lydell/node-pty', '@napi-rs/keyring', 'cpu-features'].some((e) => m === e || m.startsWith(`${e}/`)))).toBe(true);
  });

  it('puts /usr/bin/icbd, the bash and zsh completions and the man page in the deb and the rpm', () => {
    const zsh = { deb: '/usr/share/zsh/vendor-completions/_icbd', rpm: '/usr/share/zsh/site-functions/_icbd' };
    for (const target of ['deb', 'rpm'] as const) {
      expect(fpm(target)).toEqual({
        '/usr/bin/icbd': 'build/linux/icbd',
        '/usr/share/bash-completion/completions/icbd': 'out/cli/completions/icbd',
        [zsh[target]]: 'out/cli/completions/_icbd',
        '/usr/share/man/man1/icbd.1.gz': 'out/cli/icbd.1.gz',
      });
      for (const from of Object.values(fpm(target))) expect(existsSync(join(ROOT, built(from))), from).toBe(true);
    }
    expect(statSync(join(ROOT, 'build/linux/icbd')).mode & 0o111).toBe(0o111);
  });

  it("runs the bundle with the app's own Electron as Node, which the fuses allow", () => {
    expect(launcher).toMatch(/^#!\/bin\/sh\n/);
    expect(launcher).toContain(`ELECTRON_RUN_AS_NODE=1 exec "${APP}/${config.linux.executableName}" "${APP}/resources/app.asar/out/cli/icbd.cjs" "$@"`);
    expect(config.electronFuses.runAsNode).toBe(true);
    expect(config.files).toContain('out/**');
  });

  it('gzips a man page that groff reads: ASCII, known requests, every command and exit status', () => {
    const man = gunzipSync(read(built('out/cli/icbd.1.gz'))).toString();
    expect(man).toMatch(/^\.TH ICBD 1 "" "iCBD Console \d+\.\d+\.\d+/);
    expect(man).toMatch(/^[\x20-\x7e\n]*$/);
    const requests = new Set(man.split('\n').filter((l) => l.startsWith('.')).map((l) => l.split(/\s/)[0]));
    expect([...requests].filter((r) => !['.TH', '.SH', '.TP', '.TQ', '.B', '.I', '.BR', '.RS', '.RE', '.PP', '.br', '.nf', '.fi'].includes(r!))).toEqual([]);
    for (const name of ['hosts list', 'hosts add', 'lab up', 'push', 'transfers', 'cancel', 'audit']) expect(man).toContain(`.B icbd ${name.replace(/-/g, '\\-')}`);
    for (const code of ['0', '1', '2', '130']) expect(man).toMatch(new RegExp(`^\\.B ${code}$`, 'm'));
  });

  describe('from a copy outside the checkout, laid out as the package installs it', () => {
    const dirs = tempDirs('packaged-cli', ['opt', 'home']);
    const app = () => join(dirs.opt, config.productName);
    const icbd = () => join(dirs.opt, 'bin', 'icbd');
    // Symlinked packages resolve their own requires from where the link is, not from the checkout.
    const env = () => ({ PATH: `${join(dirs.opt, 'bin')}:${process.env.PATH}`, NODE_PRESERVE_SYMLINKS: '1', HOME: dirs.home, ICBD_HOME: join(dirs.home, 'env-data') });

    beforeAll(() => {
      const asar = join(app(), 'resources', 'app.asar');
      mkdirSync(join(asar, 'out', 'cli'), { recursive: true });
      copyFileSync(join(ROOT, built('out/cli/icbd.cjs')), join(asar, 'out', 'cli', 'icbd.cjs'));
      // The production node_modules electron-builder packs, less what its files list leaves out.
      const excluded = config.files.filter((f) => f.startsWith('!node_modules/')).map((f) => f.slice('!node_modules/'.length, -'/**'.length));
      const production = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .map((p) => relative(join(ROOT, 'node_modules'), p))
        .filter((p) => p && !p.startsWith('..') && /^(@[^/]+\/)?[^/@]+$/.test(p) && !excluded.includes(p));
      for (const p of production) {
        mkdirSync(dirname(join(asar, 'node_modules', p)), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', p), join(asar, 'node_modules', p));
      }
      // Node stands in for Electron run as Node; the launcher as packaged, with this copy's path.
      symlinkSync(process.execPath, join(app(), config.linux.executableName));
      mkdirSync(dirname(icbd()));
      writeFileSync(icbd(), launcher.replaceAll(APP, app()), { mode: 0o755 });
    }, 60_000);

    const run = (file: string, args: string[]) => execFileSync(file, args, { cwd: dirs.home, env: { ...process.env, ...env() }, encoding: 'utf8', timeout: 30_000 });

    it('the bundle runs with node: icbd version, icbd hosts list --json', () => {
      const bundle = join(app(), 'resources', 'app.asar', 'out', 'cli', 'icbd.cjs');
      expect(run('node', [bundle, 'version']).trim()).toBe(JSON.parse(read('package.json').toString()).version);
      expect(JSON.parse(run('node', [bundle, '--home', join(dirs.home, 'data'), 'hosts', 'list', '--json']))).toEqual([]);
    });

    it('/usr/bin/icbd runs it: version, hosts add and list --json', () => {
      expect(run(icbd(), ['version']).trim()).toBe(JSON.parse(read('package.json').toString()).version);
      const data = join(dirs.home, 'data');
      run(icbd(), ['--home', data, 'hosts', 'add', 'cache01', '--address', '192.0.2.11', '--role', 'cache']);
      expect(JSON.parse(run(icbd(), ['--home', data, 'hosts', 'list', '--json']))).toMatchObject([{ name: 'cache01', role: 'cache' }]);
    });

    it("bash completes commands, options, values and the inventory's hosts through it", () => {
      const complete = (line: string) =>
        run('bash', [
          '-c',
          'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _icbd; echo "${COMPREPLY[*]}"',
          'bash',
          join(ROOT, built('out/cli/completions/icbd')),
          line,
        ]).trim();
      expect(complete('icbd ho')).toBe('hosts');
      expect(complete('icbd hosts ')).toBe('list add rm import-ssh-config');
      expect(complete('icbd push imgs:w --comp')).toBe('--compress');
      expect(complete('icbd push imgs:w --compress ')).toBe('none zstd lz4 gzip snappy auto');
      expect(complete('icbd --home x lab ')).toBe('up down status preflight selftest reset stop start cut heal link');
      run(icbd(), ['hosts', 'add', 'imgs', '--address', '192.0.2.10', '--role', 'imgs']);
      expect(complete('icbd exec im')).toBe('imgs');
      expect(complete('icbd push imgs:w --to ')).toBe('imgs');
    });
  });
});

describe("the AppImage's --install-cli", { timeout: 60_000 }, () => {
  const dirs = tempDirs('install-cli', ['home']);

  it('puts a launcher of the AppImage in ~/.local/bin, the completions and the man page in ~/.local/share', () => {
    const appImage = "/home/op/Apps/iCBD Console-0.1.0 (op's).AppImage";
    const said = installCli(appImage, join(ROOT, 'out', 'cli'), dirs.home);
    const launcher = join(dirs.home, '.local/bin/icbd');
    expect(said[0]).toBe(`Installed ${launcher} (runs ${appImage}).`);
    expect(statSync(launcher).mode & 0o777).toBe(0o755);
    const text = readFileSync(launcher, 'utf8');
    expect(text).toContain(`ELECTRON_RUN_AS_NODE=1 exec '/home/op/Apps/iCBD Console-0.1.0 (op'\\''s).AppImage' -e `);
    expect(text).toContain('require(process.env.APPDIR + "/resources/app.asar/out/cli/icbd.cjs")');
    expect(text.trimEnd().endsWith(`-- "$@"`)).toBe(true);
    for (const [from, to] of [
      ['completions/icbd', '.local/share/bash-completion/completions/icbd'],
      ['completions/_icbd', '.local/share/zsh/site-functions/_icbd'],
      ['icbd.1.gz', '.local/share/man/man1/icbd.1.gz'],
    ] as const)
      expect(readFileSync(join(dirs.home, to)).equals(read(`out/cli/${from}`)), to).toBe(true);
    expect(readdirSync(join(dirs.home, '.local/bin'))).toEqual(['icbd']);
  });

  it("the launcher's node -e line runs the CLI with the operator's arguments, as the AppImage's Electron would", () => {
    // $APPDIR is where the AppImage mounts itself: a copy of out/ stands in for its app.asar.
    const appDir = join(dirs.home, 'mount');
    mkdirSync(join(appDir, 'resources', 'app.asar'), { recursive: true });
    symlinkSync(join(ROOT, 'out'), join(appDir, 'resources', 'app.asar', 'out'));
    const fakeAppImage = join(dirs.home, 'fake.AppImage');
    writeFileSync(fakeAppImage, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@"\n`, { mode: 0o755 });
    installCli(fakeAppImage, join(ROOT, 'out', 'cli'), dirs.home);
    const out = execFileSync(join(dirs.home, '.local/bin/icbd'), ['--home', join(dirs.home, 'data'), 'hosts', 'list', '--json'], { env: { ...process.env, APPDIR: appDir }, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });
});
