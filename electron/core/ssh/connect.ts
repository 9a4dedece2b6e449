import type { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { keyTypeLabel, type HostKeyQuestion } from '../../../shared/ssh.ts';
import { algorithmsFor } from './algorithms.ts';
import { Credentials, type CredentialOptions } from './credentials.ts';
import { fingerprintOf, keyTypeOf, type KnownHosts } from './known-hosts.ts';

export interface HopOptions extends Omit<CredentialOptions, 'host'> {
  host: Host;
  /** The host the operator asked for; differs from `host` while connecting its jump hosts. */
  target: string;
  /** The jump host this hop is reached through, and the stream it forwarded. */
  via?: { name: string; sock: Duplex };
  knownHosts: KnownHosts;
  /** Absent for background connections: an unknown key then fails instead of asking. */
  askHostKey?(q: HostKeyQuestion): Promise<boolean>;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/**
 * One SSH hop: handshake, host key check, authentication. The host key is checked inside the key
 * exchange, before the first authentication request, so a changed or revoked key stops the
 * connection before any credential (or even the user name) is sent.
 */
export function connectHop(o: HopOptions): Promise<Client> {
  const { host } = o;
  const where = `${host.name} (${host.address}:${host.port}${o.via ? `, through ${o.via.name}` : ''})`;
  const credentials = new Credentials(o);
  const client = new Client();

  return new Promise((resolve, reject) => {
    let failure: AppError | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    // Our own timer instead of ssh2's readyTimeout: it must stop while the operator reads a
    // fingerprint, which can take longer than any sensible handshake timeout.
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        failure ??= new AppError('TIMEOUT', `${where} did not complete the SSH handshake within ${o.connectTimeoutMs / 1000} s: check that it is up and reachable${o.via ? ` from ${o.via.name}` : ''}.`);
        client.destroy();
      }, o.connectTimeoutMs);
    };
    const finish = (err?: AppError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        client.destroy();
        reject(err);
      } else resolve(client);
    };

    const verify = async (key: Buffer): Promise<boolean> => {
      const check = await o.knownHosts.check(host.address, host.port, key);
      const presented = { keyType: keyTypeOf(key), fingerprint: fingerprintOf(key) };
      const base = { host: o.target, hop: host.name, address: host.address, port: host.port, ...presented };
      switch (check.state) {
        case 'known':
          return true;
        case 'revoked':
          failure = new AppError(
            'UNAUTHORIZED',
            `The host key of ${where} is revoked (${check.entry.file} line ${check.entry.line}): ${keyTypeLabel(presented.keyType)} ${presented.fingerprint}. Nothing was sent to it. The host needs a new host key; then connect again to check and accept it.`,
            { reason: 'host-key-revoked', ...base, file: check.entry.file, line: check.entry.line },
          );
          return false;
        case 'changed': {
          const old = check.known[0]!;
          failure = new AppError(
            'UNAUTHORIZED',
            `The host key of ${where} has CHANGED: known ${keyTypeLabel(old.keyType)} ${old.fingerprint} (${old.file} line ${old.line}), presented ${presented.fingerprint}. Nothing was sent to it. ` +
              `Someone may be intercepting the connection, or the host was reinstalled. If you know it was reinstalled, compare the new fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on its console, ` +
              `remove the old key with \`ssh-keygen -R '${check.name}' -f '${old.file}'\`, and connect again.`,
            { reason: 'host-key-changed', ...base, known: check.known },
          );
          return false;
        }
        case 'unknown': {
          if (!o.askHostKey) {
            failure = new AppError('UNAUTHORIZED', `The host key of ${where} is not accepted yet: connect to ${o.target} once from the app or the CLI to check its fingerprint.`, {
              reason: 'host-key-unknown',
              ...base,
            });
            return false;
          }
          clearTimeout(timer);
          const accepted = await o.askHostKey({ ...base, otherKnown: check.otherKnown }).catch(() => false);
          if (!accepted) {
            failure = new AppError('CANCELLED', `The host key of ${where} (${presented.fingerprint}) was rejected: nothing was saved and no credential was sent.`, {
              reason: 'host-key-rejected',
              ...base,
            });
            return false;
          }
          await o.knownHosts.add(host.address, host.port, key);
          arm();
          return true;
        }
      }
    };

    client.on('ready', () => {
      void credentials.succeeded();
      finish();
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      // An agent that cannot sign is one credential failing, not the connection: ssh2 goes on.
      if (err.level === 'agent') return;
      finish(failure ?? describe(err, where, host, credentials.tried));
    });
    client.on('close', () => finish(failure ?? new AppError('UNAVAILABLE', `${where} closed the connection during the handshake: see its sshd log (MaxStartups, AllowUsers, LoginGraceTime).`)));

    void o.knownHosts.knownTypes(host.address, host.port).then(
      (types) => {
        client.connect({
          host: host.address,
          port: host.port,
          ...(o.via ? { sock: o.via.sock } : {}),
          username: host.user,
          readyTimeout: 2 ** 31 - 1,
          keepaliveInterval: o.keepaliveIntervalMs,
          keepaliveCountMax: o.keepaliveCountMax,
          algorithms: algorithmsFor(types),
          authHandler: credentials.handler,
          hostVerifier: (key: Buffer, callback: (valid: boolean) => void) => {
            verify(key).then(callback, (err: unknown) => {
              failure = new AppError('INTERNAL', `Could not check the host key of ${where}: ${(err as Error).message}`);
              callback(false);
            });
          },
        });
        // PERF-NOTES: without Nagle off, ssh2's small writes stall bulk transfers.
        client.setNoDelay(true);
        arm();
      },
      (err: unknown) => finish(new AppError('INTERNAL', `Could not read the known hosts: ${(err as Error).message}`)),
    );
  });
}

function describe(err: Error & { level?: string; code?: string }, where: string, host: Host, tried: string[]): AppError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new AppError('UNAVAILABLE', `Nothing accepts SSH connections at ${where}: check that sshd runs there and that the port in the inventory is right.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new AppError('UNAVAILABLE', `The address of ${where} does not resolve: correct it in the inventory or in DNS.`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AppError('UNAVAILABLE', `There is no route to ${where}: check the network (VPN, cable, firewall).`);
    case 'ETIMEDOUT':
      return new AppError('TIMEOUT', `${where} did not answer: check that it is up and that no firewall drops SSH.`);
  }
  if (err.level === 'client-authentication')
    return new AppError(
      'UNAUTHORIZED',
      `${where} refused every credential for ${host.user}: tried ${tried.length ? tried.join(', ') : 'nothing (no agent, key or password was available)'}. ` +
        `Add your public key to ~${host.user}/.ssh/authorized_keys there, load a key into ssh-agent, or give the password when asked.`,
      { reason: 'auth-failed', host: host.name, tried },
    );
  if (err.level === 'handshake')
    return new AppError('UNAVAILABLE', `${where} and this app share no SSH algorithm (${err.message}): the server must allow AES-GCM or AES-CTR ciphers.`);
  return new AppError('UNAVAILABLE', `Could not connect to ${where}: ${err.message}.`);
}
