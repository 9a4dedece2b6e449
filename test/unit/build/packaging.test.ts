import { Ajv } from 'ajv';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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
      runAsNode: false,
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
