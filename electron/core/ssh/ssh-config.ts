import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * An OpenSSH client config read and evaluated as `ssh -G` does (readconf.c of OpenSSH 9), for the
 * few options the inventory can carry: HostName, User, Port, IdentityFile, ProxyJump,
 * ProxyCommand. Include is followed; Host and Match are evaluated, with the final pass that
 * `Match final` asks for. Nothing here runs a command: a `Match exec` is never true, and the
 * host's notes say its block was left out.
 */

export interface ConfigLine {
  keyword: string;
  args: string[];
  /** The line after the keyword, as written (ProxyCommand is a command line, not a list). */
  rest: string;
  where: string;
  /** For Include: the files it named, each already read. */
  included?: ConfigLine[][];
}

export interface ResolvedHost {
  hostname: string;
  user: string;
  port: string;
  identityFiles: string[];
  /** ProxyJump, or else ProxyCommand, as OpenSSH picks between them; 'none' is absent. */
  proxyJump?: string;
  proxyCommand?: string;
  notes: string[];
}

/** Command-line settings a hop gets from the ProxyJump that names it (ssh -l, -p, -J). */
export interface HostOverrides {
  user?: string;
  port?: string;
  proxyJump?: string;
}

const MAX_INCLUDE_DEPTH = 16;

/** Reads FILE and every file its Include lines name (relative to ~/.ssh, globs, ~). */
export function readSshConfig(file: string, home: string): ConfigLine[] {
  return readFile(file, home, 0);
}

function readFile(file: string, home: string, depth: number): ConfigLine[] {
  if (depth > MAX_INCLUDE_DEPTH) throw new Error(`${file}: Include nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?).`);
  const lines: ConfigLine[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const where = `${file} line ${i + 1}`;
      const m = /^\s*([^\s=#]+)(?:\s*=\s*|\s+|$)(.*?)\s*$/.exec(text);
      if (!m) return;
      const keyword = m[1]!.toLowerCase();
      const rest = m[2]!;
      const args = splitArgs(rest, where);
      const line: ConfigLine = { keyword, args, rest, where };
      if (keyword === 'include') {
        line.included = args.flatMap((pattern) => {
          const path = pattern.startsWith('~/') ? join(home, pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(home, '.ssh', pattern);
          // glob(3) skips what does not exist; so does OpenSSH, silently.
          return glob(path).flatMap((f) => {
            try {
              return [readFile(f, home, depth + 1)];
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return [];
              throw err;
            }
          });
        });
      }
      lines.push(line);
    });
  return lines;
}

/** OpenSSH's argv_split: words, "double" or 'single' quoted, \ escapes, # starts a comment. */
export function splitArgs(text: string, where: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (!quote && /\s/.test(c)) break;
      if (c === '\\' && /["'\\\s]/.test(text[i + 1] ?? '')) word += text[++i];
      else if (quote ? c === quote : c === '"' || c === "'") quote = quote ? '' : c;
      else word += c;
    }
    if (quote) throw new Error(`${where}: unterminated quote.`);
    args.push(word);
  }
  return args;
}

/** glob(3) for one absolute pattern: * ? [..] within a component, no dotfiles by wildcard, sorted. */
function glob(pattern: string): string[] {
  let paths = ['/'];
  for (const part of pattern.split('/').filter(Boolean)) {
    if (!/[*?[]/.test(part)) {
      paths = paths.map((p) => join(p, part));
      continue;
    }
    const re = wildcard(part);
    paths = paths.flatMap((dir) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return [];
      }
      return names
        .filter((n) => re.test(n) && (!n.startsWith('.') || part.startsWith('.')))
        .sort()
        .map((n) => join(dir, n));
    });
  }
  return paths;
}

function wildcard(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const close = c === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (close > 0) {
      const set = pattern.slice(i + 1, close);
      re += `[${set.startsWith('!') ? `^${set.slice(1)}` : set}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** One Host or Match host pattern: * and ? wildcards, nothing else special. */
function matchPattern(text: string, pattern: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(text);
}

/** A comma list of patterns (Match host a,!b): no negated one matches, and some other does. */
function matchList(text: string, list: string): boolean {
  let found = false;
  for (const p of list.split(',')) {
    if (p.startsWith('!')) {
      if (matchPattern(text, p.slice(1))) return false;
    } else if (matchPattern(text, p)) found = true;
  }
  return found;
}

interface Pass {
  /** What Host lines match: the name as typed, then in the final pass the resolved host name. */
  host: string;
  originalHost: string;
  localUser: string;
  final: boolean;
}

/** The settings `ssh -G HOST` would print, for the options the inventory carries. */
export function resolveSshHost(config: ConfigLine[], host: string, o: { localUser: string } & HostOverrides): ResolvedHost {
  const set = new Map<string, string>();
  const identityFiles: string[] = [];
  const notes: string[] = [];
  let wantFinal = false;
  // Command-line settings come first, and the first value obtained wins.
  if (o.user !== undefined) set.set('user', o.user);
  if (o.port !== undefined) set.set('port', o.port);
  if (o.proxyJump !== undefined) set.set('proxyjump', o.proxyJump);

  const expandHostname = (h: string) => h.replaceAll('%h', host).replaceAll('%%', '%');

  const matchLine = (line: ConfigLine, pass: Pass): boolean => {
    const a = line.args;
    let result = true;
    for (let i = 0; i < a.length; i++) {
      const negate = a[i]!.startsWith('!');
      const attrib = a[i]!.replace(/^!/, '').toLowerCase();
      let r: boolean;
      if (attrib === 'all') r = true;
      else if (attrib === 'canonical' || attrib === 'final') {
        if (attrib === 'final' && !negate) wantFinal = true;
        r = pass.final;
      } else {
        const arg = a[++i];
        if (arg === undefined) {
          notes.push(`${line.where}: Match ${attrib} without an argument; its block was left out.`);
          return false;
        }
        const hostname = set.has('hostname') ? expandHostname(set.get('hostname')!) : pass.host;
        switch (attrib) {
          case 'host':
            r = matchList(hostname.toLowerCase(), arg.toLowerCase());
            break;
          case 'originalhost':
            r = matchList(pass.originalHost.toLowerCase(), arg.toLowerCase());
            break;
          case 'user':
            r = matchList(set.get('user') ?? pass.localUser, arg);
            break;
          case 'localuser':
            r = matchList(pass.localUser, arg);
            break;
          default:
            // exec would run a command and localnetwork depends on this machine's addresses:
            // neither is evaluated here, so the block is left out, and said so when the rest matches.
            if (result) notes.push(`${line.where}: Match ${attrib} ${arg} was not evaluated (the import runs nothing); its settings were left out.`);
            return false;
        }
      }
      if (negate) r = !r;
      result &&= r;
    }
    return result;
  };

  const apply = (line: ConfigLine) => {
    const value = line.args[0];
    if (value === undefined) return;
    switch (line.keyword) {
      case 'hostname':
      case 'user':
      case 'port':
        if (!set.has(line.keyword)) set.set(line.keyword, value);
        break;
      case 'identityfile':
        identityFiles.push(value);
        break;
      // As OpenSSH 9 does: ProxyCommand none disables both, ProxyJump none only a later ProxyJump.
      case 'proxyjump':
        if (!set.has('proxyjump') && !set.has('proxycommand')) set.set('proxyjump', value);
        break;
      case 'proxycommand':
        if (!set.has('proxycommand') && (set.get('proxyjump') ?? 'none') === 'none') set.set('proxycommand', line.rest);
        break;
      case 'canonicalizehostname':
        if (!set.has('canonicalize')) set.set('canonicalize', value.toLowerCase());
        break;
    }
  };

  const walk = (lines: ConfigLine[], pass: Pass, active: boolean, neverMatch: boolean) => {
    for (const line of lines) {
      if (line.keyword === 'host') {
        active = !neverMatch && line.args.some((p) => !p.startsWith('!') && matchPattern(pass.host, p)) && !line.args.some((p) => p.startsWith('!') && matchPattern(pass.host, p.slice(1)));
      } else if (line.keyword === 'match') {
        active = !neverMatch && matchLine(line, pass);
      } else if (line.keyword === 'include') {
        // An Include inside an inactive block reads its files, but nothing in them applies.
        for (const file of line.included ?? []) walk(file, pass, active, neverMatch || !active);
      } else if (active) apply(line);
    }
  };

  walk(config, { host, originalHost: host, localUser: o.localUser, final: false }, true, false);
  const hostname = expandHostname(set.get('hostname') ?? host).toLowerCase();
  if (wantFinal) {
    set.set('hostname', hostname);
    walk(config, { host: hostname, originalHost: host, localUser: o.localUser, final: true }, true, false);
  }
  const canonicalize = set.get('canonicalize');
  if (canonicalize === 'yes' || canonicalize === 'always') notes.push(`CanonicalizeHostname ${canonicalize} is not followed: the host name is used as written.`);
  const proxyJump = set.get('proxyjump');
  const proxyCommand = set.get('proxycommand');
  return {
    hostname,
    user: set.get('user') ?? o.localUser,
    port: set.get('port') ?? '22',
    identityFiles,
    ...(proxyJump !== undefined && proxyJump !== 'none' ? { proxyJump } : proxyCommand !== undefined && proxyCommand !== 'none' && { proxyCommand }),
    notes: [...new Set(notes)],
  };
}

/** Every name a Host line gives in full (no * ? or !): the hosts a config defines, in order. */
export function hostAliases(config: ConfigLine[]): string[] {
  const aliases: string[] = [];
  const walk = (lines: ConfigLine[]) => {
    for (const line of lines) {
      if (line.keyword === 'host') aliases.push(...line.args.filter((a) => !/[*?!]/.test(a)));
      for (const file of line.included ?? []) walk(file);
    }
  };
  walk(config);
  return [...new Set(aliases)];
}
