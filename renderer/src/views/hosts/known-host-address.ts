/**
 * The address and port that knownHosts.forget takes, from the host field of a line of the app's
 * own known_hosts, which the console writes as `address` (port 22) or `[address]:port`. Lines
 * with several names, wildcards or hashed names were not written by the console: undefined.
 */
export function forgettableAddress(hosts: string): { address: string; port: number } | undefined {
  const bracketed = /^\[([^\]\s]+)\]:(\d{1,5})$/.exec(hosts);
  if (bracketed) return { address: bracketed[1]!, port: Number(bracketed[2]) };
  if (/^[^\s,*?![\]|]+$/.test(hosts) && hosts !== '(hashed)') return { address: hosts, port: 22 };
  return undefined;
}
