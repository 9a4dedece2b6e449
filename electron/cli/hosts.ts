import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.ts';
import { ROLES, role, type Role } from '../../shared/inventory.ts';
import type { Core } from '../core/core.ts';
import { parse, usageError } from './args.ts';
import { COMMANDS } from './commands.ts';
import { ask } from './asker.ts';
import { printJson, table } from './output.ts';

const SPEC = COMMANDS.hosts.subcommands;

export async function hostsCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
    case 'ls': {
      const { values } = parse(rest, SPEC.list);
      const hosts = await core.call('hosts.list', {});
      if (values.json) printJson(hosts);
      else if (!hosts.length) console.log('No hosts. Add one with: icbd hosts add NAME --address ADDR --role ROLE');
      else
        console.log(
          table(
            ['NAME', 'ROLE', 'ADDRESS', 'PORT', 'USER', 'JUMP', 'NOTES'],
            hosts.map((h) => [h.name, h.role, h.address, h.port, h.user, h.jump, h.notes]),
          ),
        );
      return 0;
    }
    case 'add': {
      const { values, positionals } = parse(rest, SPEC.add);
      if (positionals.length !== 1) throw usageError('Name exactly one host to add.', SPEC.add);
      const host = await core.call('hosts.add', {
        name: positionals[0]!,
        address: values.address ?? '',
        role: values.role as never,
        ...(values.port !== undefined && { port: values.port as unknown as number }),
        ...(values.user !== undefined && { user: values.user }),
        ...(values.jump !== undefined && { jump: values.jump }),
        ...(values['identity-file'] !== undefined && { identityFile: values['identity-file'] }),
        ...(values.notes !== undefined && { notes: values.notes }),
      });
      if (values.json) printJson(host);
      else console.log(`Added ${host.name} (${host.role}, ${host.user}@${host.address}:${host.port}${host.jump ? ` via ${host.jump}` : ''}).`);
      return 0;
    }
    case 'rm':
    case 'remove': {
      const { values, positionals } = parse(rest, SPEC.rm);
      if (positionals.length !== 1) throw usageError('Name exactly one host to remove.', SPEC.rm);
      const result = await core.call('hosts.remove', { name: positionals[0]! });
      if (values.json) printJson(result);
      else console.log(`Removed ${result.removed}.`);
      return 0;
    }
    case 'import-ssh-config':
      return importSshConfig(core, rest);
    default:
      // run.ts lets through only the subcommands of the table.
      throw new AppError('INVALID_INPUT', `unknown hosts subcommand '${sub}'.`);
  }
}

/**
 * Shows what ~/.ssh/config (or FILE) would add, roles guessed from the names; with --add, adds
 * them in the order proposed (jump hosts first), --role NAME=ROLE giving or correcting a role. A
 * host with no role is asked about on a terminal, and otherwise not added, saying how to give one.
 */
async function importSshConfig(core: Core, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, SPEC['import-ssh-config']);
  if (positionals.length > 1) throw usageError('Name one ssh config file at most.', SPEC['import-ssh-config']);
  const path = positionals[0] === undefined ? undefined : resolve(positionals[0]);
  const { proposals, skipped } = await core.call('hosts.proposeFromSshConfig', path === undefined ? {} : { path });
  const roles = new Map<string, Role>();
  for (const r of values.role ?? []) {
    const [name, given] = r.split('=');
    const parsed = role.safeParse(given);
    if (!name || !parsed.success) throw new AppError('INVALID_INPUT', `--role takes NAME=ROLE with ROLE one of ${ROLES.join(', ')}, e.g. --role cache01=cache (got ${r}).`);
    roles.set(name, parsed.data);
  }
  const hosts = proposals.map((p) => ({ ...p.host, ...(roles.has(p.host.name) && { role: roles.get(p.host.name) }) }));
  const added: string[] = [];
  const failed: { name: string; message: string }[] = [];
  if (values.add) {
    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY && !values.json);
    for (const h of hosts) {
      const chosen = h.role ?? (interactive ? await askRole(h.name, h.address) : undefined);
      if (!chosen) {
        failed.push({ name: h.name, message: `No role was guessed for ${h.name}: give one with --role ${h.name}=${ROLES.join('|')}.` });
        continue;
      }
      try {
        added.push((await core.call('hosts.add', { ...h, role: chosen })).name);
      } catch (err) {
        failed.push({ name: h.name, message: (err as Error).message });
      }
    }
  }
  if (values.json) {
    printJson({ proposals: hosts, skipped, added, failed });
  } else {
    console.log(
      table(
        ['NAME', 'ROLE', 'ADDRESS', 'PORT', 'USER', 'JUMP', 'NOTES'],
        proposals.map((p, i) => [
          hosts[i]!.name,
          hosts[i]!.role === undefined ? '(none guessed)' : `${hosts[i]!.role}${p.host.role !== undefined && !roles.has(p.host.name) ? ' (guessed)' : ''}`,
          p.host.address,
          p.host.port,
          p.host.user,
          p.host.jump,
          p.notes.join(' ') || undefined,
        ]),
      ),
    );
    for (const s of skipped) console.log(`skipped ${s.alias}: ${s.reason}`);
    for (const f of failed) console.log(`not added ${f.name}: ${f.message}`);
    if (values.add) console.log(`Added ${added.length} of ${hosts.length}.`);
    else console.log('Nothing added yet: check the roles, then run again with --add (and --role NAME=ROLE to give or correct one).');
  }
  return failed.length ? 1 : 0;
}

async function askRole(name: string, address: string): Promise<Role | undefined> {
  for (;;) {
    const answer = (await ask(`Role of ${name} (${address}): ${ROLES.join(', ')}, or empty to leave it out? `)).trim();
    if (answer === '') return undefined;
    const parsed = role.safeParse(answer);
    if (parsed.success) return parsed.data;
  }
}
