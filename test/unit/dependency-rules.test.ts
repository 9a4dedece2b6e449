import { appendFileSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IFlattenedRuleSet } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../temp-dirs.ts';

/**
 * The import rules of .dependency-cruiser.cjs (run by `npm run check`) on the real tree, and on a
 * copy of it with one import planted: each plant must fail the check, or a clean check means nothing.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: IFlattenedRuleSet['forbidden']; options: object };
const dirs = tempDirs('depcruise', ['copy']);

async function violations(baseDir: string): Promise<string[]> {
  const { output } = await cruise(['electron', 'shared'], { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } });
  return (output as ICruiseResult).summary.violations.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`);
}

/** A copy of electron/ and shared/ where `file` also imports `spec`. */
function planted(name: string, file: string, spec: string): string {
  const dir = join(dirs.copy, name);
  for (const top of ['electron', 'shared']) cpSync(join(ROOT, top), join(dir, top), { recursive: true });
  appendFileSync(join(dir, file), `import '${spec}';\n`);
  return dir;
}

describe('dependency rules', { timeout: 60_000 }, () => {
  it('hold in the tree as it is', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it('fail on a cycle', async () => {
    const found = await violations(planted('cycle', 'electron/core/remote/node.ts', './host.ts'));
    expect(found).toEqual([expect.stringMatching(/^no-circular electron\/core\/remote\/(node|host)\.ts -> electron\/core\/remote\/(host|node)\.ts$/)]);
  });

  it('fail on an upward import: the domain reaching a service', async () => {
    const found = await violations(planted('upward', 'electron/core/replication/commands.ts', '../transfers/queue.ts'));
    expect(found).toEqual(['services-from-above electron/core/replication/commands.ts -> electron/core/transfers/queue.ts']);
  });

  it('fail on a leaf utility importing the core', async () => {
    const found = await violations(planted('leaf', 'electron/core/util/version.ts', '../ssh/algorithms.ts'));
    expect(found).toEqual(['util-is-a-leaf electron/core/util/version.ts -> electron/core/ssh/algorithms.ts']);
  });

  it('fail on the core importing a door', async () => {
    const found = await violations(planted('door', 'electron/core/jobs/jobs.ts', '../../serve/token.ts'));
    expect(found).toContain('core-not-doors electron/core/jobs/jobs.ts -> electron/serve/token.ts');
  });

  it('fail on one door importing another', async () => {
    const found = await violations(planted('doors', 'electron/main/app-protocol.ts', '../serve/token.ts'));
    expect(found).toEqual(['doors-apart-main electron/main/app-protocol.ts -> electron/serve/token.ts']);
  });
});
