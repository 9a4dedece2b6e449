import { AppError } from '../../shared/errors.ts';
import type { Core } from '../core/core.ts';
import { parse } from './args.ts';
import { printJson, table } from './output.ts';

const USAGE = `icbd hosts list [--json]
       icbd hosts add NAME --address ADDR --role imgs|rw|home|cache [--port N] [--user U] [--jump HOST] [--identity-file PATH] [--notes TEXT] [--json]
       icbd hosts rm NAME [--json]`;

export async function hostsCommand(core: Core, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
    case 'ls': {
      const { values } = parse(rest, { json: { type: 'boolean' } }, USAGE);
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
      const { values, positionals } = parse(
        rest,
        {
          json: { type: 'boolean' },
          address: { type: 'string' },
          role: { type: 'string' },
          port: { type: 'string' },
          user: { type: 'string' },
          jump: { type: 'string' },
          'identity-file': { type: 'string' },
          notes: { type: 'string' },
        },
        USAGE,
      );
      if (positionals.length !== 1) throw new AppError('INVALID_INPUT', `Name exactly one host to add.\nusage: ${USAGE}`);
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
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } }, USAGE);
      if (positionals.length !== 1) throw new AppError('INVALID_INPUT', `Name exactly one host to remove.\nusage: ${USAGE}`);
      const result = await core.call('hosts.remove', { name: positionals[0]! });
      if (values.json) printJson(result);
      else console.log(`Removed ${result.removed}.`);
      return 0;
    }
    default:
      throw new AppError('INVALID_INPUT', `usage: ${USAGE}`);
  }
}
