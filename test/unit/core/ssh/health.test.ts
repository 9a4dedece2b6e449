import { describe, expect, it } from 'vitest';
import { probeFailure } from '../../../../electron/core/ssh/health.ts';
import { AppError } from '../../../../shared/errors.ts';
import { hostHealth } from '../../../../shared/ssh.ts';

const APP_FILE = '/home/op/.config/iCBD Console/known_hosts';
const NEW = 'SHA256:8XzyWq3p0D1s6RsO1Xkq4A7Gd1sB9cTrmKxV2yE5fLw';
const OLD = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
// The detail connect.ts gives a host key it did not accept (its base: who asked, which hop, which key).
const base = (hop = 'cache01') => ({ host: 'cache01', hop, address: '10.0.0.21', port: 22, keyType: 'ssh-ed25519', fingerprint: NEW });
const refused = (reason: string, extra: object = {}, hop?: string) => new AppError('UNAUTHORIZED', 'connect.ts words', { reason, ...base(hop), ...extra });
const asHealth = (f: ReturnType<typeof probeFailure>) => hostHealth.parse({ host: 'cache01', ...f, latencyMs: null, checkedAt: 1, since: 1 });

describe('health of a probe that failed', () => {
  it('is down, with the words of the failure, when nothing answers', () => {
    const f = probeFailure('cache01', new AppError('UNAVAILABLE', 'Nothing accepts SSH connections at cache01 (10.0.0.21:22).', { stderr: 'x' }), APP_FILE);
    expect(f).toEqual({ state: 'down', lastError: { code: 'UNAVAILABLE', message: 'Nothing accepts SSH connections at cache01 (10.0.0.21:22).' } });
    expect(probeFailure('cache01', new Error('socket hang up'), APP_FILE)).toEqual({ state: 'down', lastError: { code: 'INTERNAL', message: 'socket hang up' } });
    asHealth(f);
  });

  it('is untrusted, not down, when the key was never accepted: the fingerprint to check and how to accept it', () => {
    const f = probeFailure('cache01', refused('host-key-unknown'), APP_FILE);
    expect(f.state).toBe('untrusted');
    expect(f.lastError.hostKey).toEqual({ state: 'unknown', hop: 'cache01', address: '10.0.0.21', port: 22, keyType: 'ssh-ed25519', fingerprint: NEW });
    expect(f.lastError.message).toBe(
      `cache01 (10.0.0.21:22) answers, but its host key ED25519 ${NEW} is not accepted yet, so nothing logs in to it. ` +
        "Compare that fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on cache01's console; if it matches, accept it: open a terminal on cache01, or run `icbd exec cache01 -- true` and answer yes.",
    );
    // Rejected in a question the operator was asked meanwhile: still a key to accept, not a dead host.
    expect(probeFailure('cache01', new AppError('CANCELLED', 'rejected', { reason: 'host-key-rejected', ...base() }), APP_FILE)).toMatchObject({ state: 'untrusted', lastError: { hostKey: { state: 'unknown' } } });
    asHealth(f);
  });

  it('names the jump host when it is the jump host whose key is not accepted', () => {
    const f = probeFailure('cache01', refused('host-key-unknown', {}, 'imgs'), APP_FILE);
    expect(f.lastError.hostKey?.hop).toBe('imgs');
    expect(f.lastError.message).toMatch(/^imgs \(10\.0\.0\.21:22\), the jump host cache01 is reached through, answers/);
    expect(f.lastError.message).toContain('`icbd exec imgs -- true`');
  });

  it('raises a changed key as a security event, with the check to make and then icbd known-hosts forget', () => {
    const f = probeFailure('cache01', refused('host-key-changed', { known: [{ file: APP_FILE, line: 3, keyType: 'ssh-ed25519', fingerprint: OLD }] }), APP_FILE);
    expect(f).toMatchObject({ state: 'untrusted', lastError: { code: 'UNAUTHORIZED', hostKey: { state: 'changed', fingerprint: NEW } } });
    expect(f.lastError.message).toBe(
      `SECURITY: the host key of cache01 (10.0.0.21:22) has CHANGED: ED25519 ${OLD} is known (${APP_FILE} line 3), ED25519 ${NEW} was presented. Nothing was sent to it. ` +
        `Someone may be intercepting the connection, or the host was reinstalled. Do not trust it before checking: compare ${NEW} with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on cache01's console. ` +
        "Only if they match, remove the old key with `icbd known-hosts forget 10.0.0.21 22` (or Forget in the Hosts view's host keys), then accept the new one at the next connection.",
    );
    asHealth(f);
  });

  it('sends to ssh-keygen -R a changed key the operator keeps in a file of their own', () => {
    const f = probeFailure('cache01', refused('host-key-changed', { port: 2222, known: [{ file: '/home/op/.ssh/known_hosts', line: 7, keyType: 'ssh-rsa', fingerprint: OLD }] }), APP_FILE);
    expect(f.lastError.message).toContain(`RSA ${OLD} is known (/home/op/.ssh/known_hosts line 7)`);
    expect(f.lastError.message).toContain("`ssh-keygen -R '[10.0.0.21]:2222' -f '/home/op/.ssh/known_hosts'` (that file is yours; the app does not edit it)");
    expect(f.lastError.message).not.toContain('icbd known-hosts forget');
  });

  it('raises a revoked key as a security event too', () => {
    const f = probeFailure('cache01', refused('host-key-revoked', { file: '/etc/ssh/ssh_known_hosts', line: 2 }), APP_FILE);
    expect(f).toMatchObject({ state: 'untrusted', lastError: { hostKey: { state: 'revoked' } } });
    expect(f.lastError.message).toMatch(/^SECURITY: cache01 \(10\.0\.0\.21:22\) presents a revoked host key, ED25519 SHA256:\S+ \(@revoked in \/etc\/ssh\/ssh_known_hosts line 2\)\. Nothing was sent to it\./);
    asHealth(f);
  });
});
