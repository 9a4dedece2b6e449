import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors.ts';
import { proposedHost, type ProposedHost as ProposedHostEntry } from '../../../shared/inventory.ts';
import { guessRole } from '../../../shared/ssh.ts';
import { hostAliases, readSshConfig, resolveSshHost, splitArgs, type ConfigLine, type HostOverrides } from './ssh-config.ts';

export interface ProposedHost {
  /** The host as it would be added; no role when nothing in its name or address suggests one. */
  host: ProposedHostEntry;
  /** The alias in the ssh config it came from, or the hop as a ProxyJump wrote it. */
  alias: string;
  /** What could not be carried over (a second IdentityFile, an unevaluated Match), and why a jump host is here. */
  notes: string[];
}

export interface ImportResult {
  proposals: ProposedHost[];
  skipped: { alias: string; reason: string }[];
}

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

/** One hop to reach: an alias with what the ProxyJump that names it sets on ssh's command line. */
interface Hop extends HostOverrides {
  alias: string;
  /** As the config wrote it (admin@bastion:2022), for the operator. */
  written: string;
}

type Outcome = { name: string } | { reason: string };

/**
 * Hosts proposed from an OpenSSH client config (read with its Includes): every concrete alias of
 * a Host line, with the values `ssh -G ALIAS` gives. A ProxyJump chain (a,b) or a
 * `ProxyCommand ssh -W %h:%p X` becomes jump hosts, each hop with the user and port the chain
 * gives it, so the inventory goes through the same hosts in the same order as ssh. Any other
 * ProxyCommand cannot be carried over: that host is left out, saying so.
 */
export function proposeHostsFromSshConfig(config: ConfigLine[], o: { localUser: string; home: string }): ImportResult {
  const aliases = hostAliases(config);
  const reserved = new Set(aliases.map(nameFromAlias));
  const outcomes = new Map<string, Outcome>();
  const namesByHost = new Map<string, string>();
  const proposals: ProposedHost[] = [];

  const reach = (hop: Hop, behind: string[]): Outcome => {
    const key = JSON.stringify([hop.alias, hop.user, hop.port, hop.proxyJump]);
    const known = outcomes.get(key);
    if (known) return known;
    if (behind.includes(key)) return { reason: `The jump hosts of ${hop.written} loop back to it.` };
    const outcome = propose(hop, [...behind, key]);
    outcomes.set(key, outcome);
    return outcome;
  };

  const propose = (hop: Hop, behind: string[]): Outcome => {
    const r = resolveSshHost(config, hop.alias, { localUser: o.localUser, ...hop });
    const notes = [...r.notes];
    if (/%/.test(r.hostname)) return { reason: `HostName ${r.hostname} uses %-tokens other than %h, which the inventory cannot express.` };

    let via: Hop | undefined;
    if (r.proxyJump) {
      const hops = r.proxyJump.split(',').map(parseHop);
      const last = hops.at(-1);
      if (!last || hops.some((h) => !h)) return { reason: `ProxyJump ${r.proxyJump} is not a list of [user@]host[:port].` };
      const before = r.proxyJump.split(',').slice(0, -1).join(',');
      via = { ...last, ...(before && { proxyJump: before }) };
    } else if (r.proxyCommand) {
      via = jumpOfProxyCommand(r.proxyCommand);
      if (!via) {
        return {
          reason: `ProxyCommand ${r.proxyCommand} is not imported: the console connects directly or through jump hosts, and only \`ssh -W %h:%p HOST\` says which one. Add this host by hand with its jump host.`,
        };
      }
    }
    let jump: string | undefined;
    if (via) {
      const j = reach(via, behind);
      if ('reason' in j) return { reason: `Its jump host ${via.written} cannot be imported: ${j.reason}` };
      jump = j.name;
    }

    const identityFile = identityOf(r.identityFiles, { home: o.home, localUser: o.localUser, user: r.user, host: r.hostname }, notes);
    const entry = { address: r.hostname, port: r.port, user: r.user, ...(jump && { jump }), ...(identityFile && { identityFile }) };
    const same = JSON.stringify(entry);
    const existing = namesByHost.get(same);
    if (existing) return { name: existing };

    const plain = hop.user === undefined && hop.port === undefined && hop.proxyJump === undefined;
    const base = nameFromAlias(hop.alias);
    const taken = new Set(proposals.map((p) => p.host.name));
    const name = plain ? base : freeName(base, hop, jump, (n) => taken.has(n) || reserved.has(n));
    if (taken.has(name)) return { reason: `Another alias already became the host ${name}.` };
    if (!aliases.includes(hop.alias) || !plain) notes.unshift(`A jump host, named in a ProxyJump or ProxyCommand as ${hop.written}.`);

    // A hop reached another way than its alias (imgs-via-bastion) is the same machine as that
    // alias: the alias carries the guess, so two hosts are not both proposed as imgs.
    const role = plain ? guessRole(name, r.hostname) : undefined;
    const parsed = proposedHost.safeParse({ name, ...entry, ...(role && { role }) });
    if (!parsed.success) return { reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(' ') };
    namesByHost.set(same, name);
    proposals.push({ host: parsed.data, alias: hop.written, notes });
    return { name };
  };

  const skipped: ImportResult['skipped'] = [];
  for (const alias of aliases) {
    const outcome = reach({ alias, written: alias }, []);
    if ('reason' in outcome) skipped.push({ alias, reason: outcome.reason });
    else if (outcome.name !== nameFromAlias(alias)) skipped.push({ alias, reason: `Reached exactly as ${outcome.name} (address, port, user, key and jump host): proposed once, as ${outcome.name}.` });
  }
  return { proposals, skipped };
}

/** A hop reached another way than its alias alone: imgs-via-bastion, bastion-2022, bastion-admin, then bastion-2… */
function freeName(base: string, hop: Hop, jump: string | undefined, taken: (n: string) => boolean): string {
  const fit = (n: string) => n.slice(0, 32).replace(/-+$/, '');
  const candidates = [base, jump && `${base}-via-${jump}`, hop.port && `${base}-${hop.port}`, hop.user && `${base}-${nameFromAlias(hop.user)}`]
    .filter((n): n is string => Boolean(n))
    .map(fit);
  for (let i = 2; candidates.every(taken); i++) candidates.push(`${fit(base.slice(0, 29))}-${i}`);
  return candidates.find((n) => !taken(n))!;
}

/** One ProxyJump hop: [ssh://][user@]host[:port], an IPv6 address in brackets. */
function parseHop(text: string): Hop | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@/]+)@)?(\[[0-9a-fA-F:.]+\]|[^:@/[\]]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  return { alias: m[2]!.replace(/^\[|\]$/g, ''), written: text.trim(), ...(m[1] && { user: m[1] }), ...(m[3] && { port: m[3] }) };
}

/**
 * `ssh -W %h:%p X` (or `[%h]:%p`, with -q -x -a -T -C -4 -6, -l USER, -p PORT; `exec` before it)
 * is a jump through X. Anything else (nc, a SOCKS proxy, another forward) is not.
 */
function jumpOfProxyCommand(command: string): Hop | undefined {
  let words: string[];
  try {
    words = splitArgs(command, 'ProxyCommand');
  } catch {
    return undefined;
  }
  if (words[0] === 'exec') words = words.slice(1);
  if (!/(^|\/)ssh$/.test(words[0] ?? '')) return undefined;
  let forward: string | undefined;
  let user: string | undefined;
  let port: string | undefined;
  let destination: Hop | undefined;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (/^-[qxaTC46]+$/.test(w)) continue;
    const opt = /^-([Wlp])(.*)$/.exec(w);
    if (opt) {
      const value = opt[2] || words[++i];
      if (opt[1] === 'W') forward = value;
      else if (opt[1] === 'l') user = value;
      else port = value;
    } else if (!w.startsWith('-') && !destination) destination = parseHop(w);
    else return undefined;
  }
  if (!destination || (forward !== '%h:%p' && forward !== '[%h]:%p')) return undefined;
  return { ...destination, ...(destination.user === undefined && user !== undefined && { user }), ...(destination.port === undefined && port !== undefined && { port }) };
}

/** The first IdentityFile with its tokens expanded, when the inventory can hold it (absolute or ~/). */
function identityOf(files: string[], t: { home: string; localUser: string; user: string; host: string }, notes: string[]): string | undefined {
  if (!files.length) return undefined;
  const written = files[0]!;
  if (files.length > 1) notes.push(`Only the first IdentityFile (${written}) is kept.`);
  const tokens: Record<string, string> = { d: t.home, u: t.localUser, r: t.user, h: t.host, '%': '%' };
  let unknown = false;
  const path = written.replace(/%(.?)/g, (_, c: string) => tokens[c] ?? ((unknown = true), ''));
  if (unknown || !/^(\/|~\/)/.test(path)) {
    notes.push(`IdentityFile ${written} is not an absolute or ~/ path with tokens the import knows (%d %u %r %h); it was left out.`);
    return undefined;
  }
  return path;
}

/** The operator's ~/.ssh/config (or `path`) read as ssh reads it, and proposed; a file that cannot be read is NOT_FOUND. */
export function proposeHostsFromFile(path?: string): ImportResult {
  const home = homedir();
  const file = path ?? join(home, '.ssh', 'config');
  let config: ConfigLine[];
  try {
    config = readSshConfig(file, home);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new AppError('NOT_FOUND', `Cannot read ${(err as NodeJS.ErrnoException).path ?? file} (${code}).`);
    throw new AppError('INVALID_INPUT', (err as Error).message);
  }
  return proposeHostsFromSshConfig(config, { localUser: userInfo().username, home });
}
