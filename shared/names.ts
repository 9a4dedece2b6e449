import { z } from 'zod';

/**
 * Every name that may end up in a remote command or a file path is checked here, once, with a
 * message that says what is wrong. Patterns are strict on purpose: anything outside them is
 * refused rather than quoted, so a hostile name never reaches a shell.
 */

export const HOST_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/;
export const hostName = z
  .string()
  .min(1, 'A host name is required.')
  .max(32, 'A host name has at most 32 characters.')
  .regex(
    HOST_NAME,
    'A host name is lowercase letters, digits and "-", starts with a letter and does not end with "-" (e.g. cache01).',
  );

// RFC 1123 host names, IPv4 dotted quads and bracket-free IPv6: what OpenSSH accepts as HostName.
const DNS_NAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const IPV4 = z.ipv4();
const IPV6 = z.ipv6();
// An interface's name or index after a link-local IPv6 address (fe80::1%eth0).
const ZONE = /^[a-zA-Z0-9_.-]{1,15}$/;

export function isAddress(value: string): boolean {
  if (IPV4.safeParse(value).success) return true;
  if (value.includes(':')) {
    const [ip, zone, ...more] = value.split('%');
    return more.length === 0 && IPV6.safeParse(ip).success && (zone === undefined || ZONE.test(zone));
  }
  // A name made only of digits and dots that failed IPV4 is a mistyped address, not a DNS name.
  if (/^[\d.]+$/.test(value)) return false;
  return DNS_NAME.test(value);
}

export const address = z
  .string()
  .min(1, 'An address is required.')
  .refine(isAddress, 'The address must be a DNS name, an IPv4 address or an IPv6 address, without spaces or a port.');

export const port = z.coerce
  .number({ message: 'The port must be a number.' })
  .int('The port must be a whole number.')
  .min(1, 'The port is between 1 and 65535.')
  .max(65535, 'The port is between 1 and 65535.');

export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
export const userName = z
  .string()
  .min(1, 'A user is required.')
  .regex(USER_NAME, 'A user name is lowercase letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters.');

/** A local path to a private key: absolute, or ~/ for the operator's home; no control characters. */
export const keyPath = z
  .string()
  .max(4096)
  .regex(/^(\/|~\/)[^\0\n\r]*$/, 'A key file is an absolute path or starts with ~/.');

// C0 and C1 control characters and DEL: they rewrite a terminal line or a log entry.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A file's name inside a directory on a node (an upload's target): exactly one path component.
 * It is quoted like every argument, so spaces, quotes, `;` and `$()` are only characters; what
 * could leave the directory ("/", ".."), hide the file or meet the upload's hidden staging
 * directory (a leading "."), pass for an option (a leading "-") or corrupt a terminal or a log
 * (control characters) is refused. 255 bytes is the limit of a name on btrfs and ext4.
 */
export const fileName = z.string().superRefine((v, ctx) => {
  const problem =
    v === ''
      ? 'A file name is required.'
      : v.includes('/')
        ? 'A file name cannot contain "/": give the name only, not a path.'
        : v.includes('..')
          ? 'A file name cannot contain "..".'
          : CONTROL.test(v)
            ? 'A file name cannot contain control characters (newlines, tabs, escapes).'
            : v.startsWith('.') || v.startsWith('-')
              ? 'A file name cannot start with "." or "-".'
              : utf8Length(v) > 255
                ? 'A file name has at most 255 bytes.'
                : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

function utf8Length(v: string): number {
  let n = 0;
  for (const c of v) {
    const cp = c.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A file on the machine the console's core runs on: absolute (POSIX, or a Windows drive or share). */
export const localFilePath = z
  .string()
  .max(4096, 'A file path has at most 4096 characters.')
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'Give the file as an absolute path (it starts with /, or with a drive letter on Windows).')
  .refine((v) => !/[\0\n\r]/.test(v), 'A file path cannot contain NUL or line breaks.');
