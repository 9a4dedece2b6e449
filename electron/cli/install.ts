import { AppError } from '../../shared/errors.ts';
import { guideClientSubnet, type InstallPlanOut, type InstallSettings, requestOf, type TrustPlanOut } from '../../shared/install.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { ask } from './asker.ts';
import { planText, trustText } from './install-plan.ts';
import { followJob } from './jobs.ts';
import { colours, printJson } from './output.ts';

type Values = ReturnType<typeof parse<typeof COMMANDS.install.options>>['values'];

/** The host's saved (or proposed) settings with what the command line says on top. */
function settingsFrom(base: InstallSettings, v: Values): InstallSettings {
  const role = (v.role ?? base.role) as InstallSettings['role'];
  const number = v['cache-number'] !== undefined ? Number(v['cache-number']) : base.cache?.number;
  const cache =
    role === 'cache' && number !== undefined
      ? { number, clientSubnet: v['client-subnet'] ?? (v['cache-number'] !== undefined || !base.cache ? guideClientSubnet(number) : base.cache.clientSubnet) }
      : undefined;
  const p = base.platform;
  return {
    role,
    platform: { imgs: v.imgs ?? p.imgs, home: v.home ?? p.home, data: v.data ?? p.data, clients: v.clients ?? p.clients },
    nfs: v['no-nfs'] ? false : base.nfs,
    ...(cache && { cache }),
    ...(base.disk && { disk: base.disk }),
  };
}

/**
 * Plans a role on a host and, once the operator agrees, applies it. Dry run prints the plan only.
 * Without --yes the plan is shown and the operator asked on the terminal; a step that formats a
 * disk also needs the device typed (or --confirm-disk naming it exactly).
 */
export async function installCommand(core: Core, argv: string[]): Promise<number> {
  if (argv[0] === 'trust') return trustCommand(core, argv.slice(1));
  const { values, positionals } = parse(argv, COMMANDS.install);
  const [host, ...extra] = positionals;
  if (!host || extra.length) throw usageError('Name one host.', COMMANDS.install);
  const state = await core.call('install.state', { host });
  const settings = settingsFrom(state.settings, values);
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  let confirmDisk = values['confirm-disk'];
  const planOf = () => core.call('install.plan', requestOf(host, settings, confirmDisk));
  const show = (plan: InstallPlanOut) => (values.json ? printJson(plan) : console.log(planText(plan, colours())));

  let plan = await planOf();
  const wantsDisk = plan.blockers.some((b) => b.step === 'disk') && plan.blockers.length === 1;
  if (wantsDisk && !confirmDisk && !values['dry-run'] && !values.yes && tty) {
    show(plan);
    confirmDisk = (await ask(`\nThe disk step formats a disk and erases it. Type the device to format (e.g. /dev/sdb), or nothing to stop: `)).trim();
    if (!confirmDisk) return 1;
    plan = await planOf();
  }
  if (values['dry-run']) {
    show(plan);
    return 0;
  }
  if (plan.blockers.length) {
    show(plan);
    const disk = plan.blockers.find((b) => b.step === 'disk');
    if (disk && !confirmDisk) process.stderr.write('The disk step formats a disk: name it with --confirm-disk DEVICE.\n');
    return 1;
  }
  if (plan.changes === 0) {
    if (!values.json) console.log(planText(plan).split('\n').at(-1));
  } else {
    if (!values.yes) {
      show(plan);
      if (!tty) throw new AppError('INVALID_INPUT', 'There is no terminal to ask on: run again with --yes to apply (or --dry-run to only plan).');
      const answer = await ask(`Apply these ${plan.changes} changes to ${host}? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) return 1;
    }
    const { jobId } = await core.call('install.apply', requestOf(host, settings, confirmDisk));
    await followJob(core, jobId, { quiet: values.json ?? false });
    plan = (await core.jobs.wait(jobId)).result as InstallPlanOut;
    if (!values.json) console.log(`${host} is installed as ${settings.role} and verified: a check plans nothing.`);
  }
  if (values.reboot) {
    const { jobId } = await core.call('install.reboot', requestOf(host, settings));
    await followJob(core, jobId, { quiet: values.json ?? false });
    plan = (await core.jobs.wait(jobId)).result as InstallPlanOut;
    if (!values.json) console.log(plan.changes === 0 ? `${host} came back from the reboot with every mount and service in place.` : planText(plan));
  }
  if (values.json) printJson(plan);
  return plan.changes === 0 ? 0 : 1;
}

/**
 * Annex 2's SSH table over every installed node: a node installed after the others made a key
 * they do not accept yet. Planned with diffs, applied after a yes like an install.
 */
async function trustCommand(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, COMMANDS.install.subcommands.trust);
  if (positionals.length) throw usageError('install trust takes no host: it covers every installed node.', COMMANDS.install.subcommands.trust);
  const show = (plan: TrustPlanOut) => (values.json ? printJson(plan) : console.log(trustText(plan, colours())));
  let plan = await core.call('install.planTrust', {});
  if (values['dry-run'] || plan.changes === 0) {
    show(plan);
    return 0;
  }
  if (!values.yes) {
    show(plan);
    if (!(process.stdin.isTTY && process.stderr.isTTY)) throw new AppError('INVALID_INPUT', 'There is no terminal to ask on: run again with --yes to apply (or --dry-run to only plan).');
    if (!/^y(es)?$/i.test((await ask(`Apply these ${plan.changes} changes? [y/N] `)).trim())) return 1;
  }
  const { jobId } = await core.call('install.trust', {});
  await followJob(core, jobId, { quiet: values.json ?? false });
  plan = (await core.jobs.wait(jobId)).result as TrustPlanOut;
  show(plan);
  return plan.changes === 0 ? 0 : 1;
}
