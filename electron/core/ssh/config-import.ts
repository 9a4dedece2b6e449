import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig, { type Line, type Section } from 'ssh-config';
import { AppError } from '../../../shared/errors.ts';
import { host as hostSchema, type Host, type Role } from '../../../shared/inventory.ts';
import { guessRole } from '../../../shared/ssh.ts';

export interface ProposedHost {
  /** The Host as it would be added; `role` is a guess or, when nothing suggests one, 'cache'. */
  host: Host;
  /** The alias in ~/.ssh/config it came from. */
  alias: string;
  roleGuessed: boolean;
  /** What could not be carried over (a second IdentityFile, a %-token, a ProxyJump to a user@). */
  notes: string[];
}

export interface ImportResult {
  proposals: ProposedHost[];
  skipped: { alias: string; reason: string }[];
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** An inventory name from an alias: lowercase, other characters as "-" ("Cache_01" → "cache-01"). */
export function nameFromAlias(alias: string): string {
  return alias
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
}

/**
 * Hosts proposed from the text of an OpenSSH client config: every concrete alias of a Host line
 * (patterns with * ? ! are defaults, not hosts), with the values OpenSSH would use for it
 * (first match wins, `Host *` included). Match blocks are not evaluated: `Match exec` would run
 * a command, and nothing here may. Pure: the caller reads the file and picks what to add.
 */
export function proposeHostsFromSshConfig(text: string, o: { defaultUser?: string } = {}): ImportResult {
  const config = SSHConfig.parse(text);
  const aliases = [
    ...new Set(
      config
        .filter((l: Line): l is Section => 'config' in l && /^host$/i.test(l.param))
        .flatMap((s) => all(s.value as string | string[]).flatMap((v) => (typeof v === 'string' ? v.split(/\s+/) : [String((v as { val: string }).val)])))
        .filter((a) => a !== '' && !/[*?!]/.test(a)),
    ),
  ];
  const computed = new Map(aliases.map((a) => [a, config.compute(a, { ignoreCase: true, matchExec: false })]));
  const names = new Map(aliases.map((a) => [a, nameFromAlias(a)]));
  const proposals: ProposedHost[] = [];
  const skipped: ImportResult['skipped'] = [];

  for (const alias of aliases) {
    const c = computed.get(alias)!;
    const notes: string[] = [];
    const name = names.get(alias)!;
    // %h is the alias itself (OpenSSH's most common token); any other token cannot be resolved here.
    const address = (first(c.hostname) ?? alias).replaceAll('%h', alias).replaceAll('%%', '%');
    if (/%/.test(address)) {
      skipped.push({ alias, reason: `HostName ${address} uses %-tokens, which the inventory cannot express.` });
      continue;
    }
    const identities = all(c.identityfile);
    let identityFile = identities[0];
    if (identities.length > 1) notes.push(`Only the first IdentityFile (${identityFile}) is kept.`);
    if (identityFile && (/%/.test(identityFile) || !/^(\/|~\/)/.test(identityFile))) {
      notes.push(`IdentityFile ${identityFile} is not an absolute or ~/ path without %-tokens; it was left out.`);
      identityFile = undefined;
    }
    const jump = jumpOf(first(c.proxyjump), names, notes);
    const role: Role | undefined = guessRole(name, address);
    const candidate = {
      name,
      address,
      port: first(c.port) ?? 22,
      user: first(c.user) ?? o.defaultUser ?? 'root',
      role: role ?? 'cache',
      ...(jump ? { jump } : {}),
      ...(identityFile ? { identityFile } : {}),
    };
    const parsed = hostSchema.safeParse(candidate);
    if (!parsed.success) {
      skipped.push({ alias, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(' ') });
      continue;
    }
    if (proposals.some((p) => p.host.name === name)) {
      skipped.push({ alias, reason: `Another alias already became the host ${name}.` });
      continue;
    }
    proposals.push({ host: parsed.data, alias, roleGuessed: role !== undefined, notes });
  }
  return { proposals, skipped };
}

/**
 * ProxyJump "a,b" means a, then b, then the host: the host's own jump host is the last one (b),
 * and b's own chain is b's business. Only aliases of the same file can become jump hosts.
 */
function jumpOf(value: string | undefined, names: Map<string, string>, notes: string[]): string | undefined {
  if (!value || value.toLowerCase() === 'none') return undefined;
  const hops = value.split(',');
  const last = hops.at(-1)!.trim();
  if (hops.length > 1) notes.push(`ProxyJump ${value}: only the last hop (${last}) is kept; give it its own jump host.`);
  if (/[@:]/.test(last)) {
    notes.push(`ProxyJump ${last} names a user or port; add that jump host to the inventory by hand.`);
    return undefined;
  }
  const name = names.get(last);
  if (!name) notes.push(`ProxyJump ${last} is not a Host of this file; add it to the inventory and set it as the jump host.`);
  return name;
}

/** The operator's ~/.ssh/config (or `path`) read and proposed; a file that cannot be read is NOT_FOUND. */
export async function proposeHostsFromFile(path = join(homedir(), '.ssh', 'config')): Promise<ImportResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AppError('NOT_FOUND', `Cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  return proposeHostsFromSshConfig(text, { defaultUser: userInfo().username });
}
