import { chmodSync, copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { command } from '../../shared/shell.ts';

/**
 * `iCBD Console.AppImage --install-cli`: what the deb and rpm install for the CLI, for the
 * AppImage, in the user's own directories (as VS Code's "Install 'code' command in PATH"): a
 * launcher in ~/.local/bin that runs the bundled CLI with the AppImage's Electron as Node, the
 * bash and zsh completions and the man page. The AppImage mounts itself at a new path each run,
 * so the launcher names the AppImage file and finds the CLI through $APPDIR at run time; moving
 * the AppImage means running this again.
 */
export function installCli(appImage: string, cliDir: string, home: string): string[] {
  const data = join(home, '.local', 'share');
  const launcher = join(home, '.local', 'bin', 'icbd');
  // `node -e CODE -- ARGS` gives the CLI [node, ...ARGS]: "icbd" stands in for the script's name.
  const load = 'process.argv.splice(1, 0, "icbd"); require(process.env.APPDIR + "/resources/app.asar/out/cli/icbd.cjs")';
  const files: [string, string][] = [
    [join(cliDir, 'completions', 'icbd'), join(data, 'bash-completion', 'completions', 'icbd')],
    [join(cliDir, 'completions', '_icbd'), join(data, 'zsh', 'site-functions', '_icbd')],
    [join(cliDir, 'icbd.1.gz'), join(data, 'man', 'man1', 'icbd.1.gz')],
  ];
  write(launcher, `#!/bin/sh\n# Written by "iCBD Console --install-cli": run it again if the AppImage moves.\nELECTRON_RUN_AS_NODE=1 exec ${command([appImage, '-e', load, '--'])} "$@"\n`, 0o755);
  for (const [from, to] of files) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, `${to}.tmp`);
    renameSync(`${to}.tmp`, to);
  }
  return [
    `Installed ${launcher} (runs ${appImage}).`,
    ...files.map(([, to]) => `Installed ${to}.`),
    'If icbd is not found, add ~/.local/bin to PATH; for zsh completion, add ~/.local/share/zsh/site-functions to fpath.',
  ];
}

/** Written whole or not at all: a half-written launcher is never left on PATH. */
function write(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text, { mode });
  chmodSync(`${path}.tmp`, mode);
  renameSync(`${path}.tmp`, path);
}
