import { fields, type LineKind, type WantedLine } from './textfile.ts';

/**
 * What a line "is" in each file the installer edits besides /etc/fstab (see fstab.ts), and how
 * our own lines of each are written. The keys decide ownership (textfile.ts).
 */

const uncomment = (line: string) => line.replace(/#.*/, '');

/** /etc/hosts: a line is about each name it lists, so one name never has two addresses. */
export const HOSTS: LineKind = {
  keys: (line) => fields(uncomment(line)).slice(1).map((n) => n.toLowerCase()),
};

export function hostsLine(address: string, names: readonly string[]): WantedLine {
  return { keys: names.map((n) => n.toLowerCase()), text: `${address}\t${names.join(' ')}` };
}

// sysctl.conf(5): "key = value", "key=value", "-key = value" (ignore errors), "/" or "." separators.
const sysctlKey = (key: string) => key.replace(/^-/, '').replaceAll('/', '.');

export const SYSCTL: LineKind = {
  keys: (line) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';') || !t.includes('=')) return [];
    return [sysctlKey(t.slice(0, t.indexOf('=')).trim())];
  },
};

export function sysctlLine(key: string, value: string): WantedLine {
  return { keys: [sysctlKey(key)], text: `${key}=${value}` };
}

/** exports(5): the exported path is the line's key (quoted paths included). */
export const EXPORTS: LineKind = {
  keys: (line) => {
    const first = fields(line)[0];
    return first === undefined ? [] : [first.replace(/^"(.*)"$/, '$1')];
  },
};

export function exportsLine(path: string, clients: string, options: readonly string[]): WantedLine {
  return { keys: [path], text: `${path}\t${clients}(${options.join(',')})` };
}

/** Shell-style VAR=value files such as /etc/selinux/config. */
export const SHELL_VARS: LineKind = {
  keys: (line) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    return m ? [m[1]!] : [];
  },
};

export function shellVarLine(name: string, value: string): WantedLine {
  return { keys: [name], text: `${name}=${value}` };
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-)/;

/** authorized_keys: a key is the same key whatever its comment or options. */
export const AUTHORIZED_KEYS: LineKind = {
  keys: (line) => {
    const f = fields(line);
    const t = f.findIndex((x) => KEY_TYPE.test(x));
    return t >= 0 && f[t + 1] ? [f[t + 1]!] : [];
  },
};

/** `type base64 [comment]` from a .pub file, or undefined when it is not one. */
export function parsePublicKey(text: string): { type: string; blob: string; line: string } | undefined {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const [type, blob] = fields(line);
  if (!type || !blob || !KEY_TYPE.test(type) || !/^[A-Za-z0-9+/=]+$/.test(blob)) return undefined;
  return { type, blob, line };
}

/** The line that accepts `publicKey`, with `options` (authorized_keys' own: from=, restrict, command=) in front. */
export function authorizedKeyLine(publicKey: string, options?: string): WantedLine {
  const key = parsePublicKey(publicKey);
  if (!key) throw new Error('Not an OpenSSH public key.');
  return { keys: [key.blob], text: options ? `${options} ${key.line}` : key.line };
}

/** known_hosts: one line per host name and key type; hashed names are never ours. */
export const KNOWN_HOSTS: LineKind = {
  keys: (line) => {
    const f = fields(line);
    const hostsField = f[0]?.startsWith('@') ? f[1] : f[0];
    const type = f[0]?.startsWith('@') ? f[2] : f[1];
    if (!hostsField || !type) return [];
    return hostsField.split(',').map((h) => `${h.toLowerCase()} ${type}`);
  },
};

export function knownHostLine(names: readonly string[], hostKey: string): WantedLine {
  const key = parsePublicKey(hostKey);
  if (!key) throw new Error('Not an OpenSSH host key.');
  return { keys: names.map((n) => `${n.toLowerCase()} ${key.type}`), text: `${names.join(',')} ${key.type} ${key.blob}` };
}
