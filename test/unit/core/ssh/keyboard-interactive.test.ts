import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type KeyboardAuthContext } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credentials } from '../../../../electron/core/ssh/credentials.ts';
import { NoSecrets } from '../../../../electron/core/secrets/none.ts';
import type { Host } from '../../../../shared/inventory.ts';
import type { SecretQuestion } from '../../../../shared/ssh.ts';

/**
 * Keyboard-interactive against ssh2's own SSH server on loopback, asking as a two-factor PAM stack
 * does: the password, then a one-time code, in two rounds. Only the password prompt gets the
 * password; the code is asked of the operator, in the server's words, and never kept.
 */
const { Client, Server, utils } = ssh2;
const PASSWORD = 'the-password';
const CODE = '492817';

let server: InstanceType<typeof Server>;
let port: number;
/** What the server received in each round. */
const received: string[][] = [];

beforeAll(async () => {
  const hostKey = utils.generateKeyPairSync('ed25519').private;
  server = new Server({ hostKeys: [hostKey] }, (client: Connection) => {
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
      const kbd = ctx as KeyboardAuthContext;
      kbd.prompt([{ prompt: 'Password: ', echo: false }], 'Two-step login', '', (first: string[]) => {
        received.push(first);
        kbd.prompt([{ prompt: 'Verification code: ', echo: false }], (second: string[]) => {
          received.push(second);
          if (first[0] === PASSWORD && second[0] === CODE) kbd.accept();
          else kbd.reject();
        });
      });
    });
    client.on('ready', () => client.end());
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const host: Host = { name: 'otp', address: '127.0.0.1', port: 22, user: 'root', role: 'cache' } as Host;

function connect(asked: SecretQuestion[], answers: Record<string, string>): Promise<boolean> {
  const creds = new Credentials({
    host,
    secrets: new NoSecrets('no keychain in this test'),
    askSecret: async (q) => {
      asked.push(q);
      return answers[q.kind];
    },
    sshDir: '/nonexistent',
  });
  return new Promise((resolve) => {
    const client = new Client();
    client.once('ready', () => (client.end(), resolve(true)));
    client.once('error', () => resolve(false));
    client.connect({ host: '127.0.0.1', port, username: 'root', authHandler: creds.handler, hostVerifier: () => true });
  });
}

describe('keyboard-interactive', () => {
  it('answers the password prompt with the password and asks for the one-time code, which is not kept', async () => {
    received.length = 0;
    const asked: SecretQuestion[] = [];
    expect(await connect(asked, { password: PASSWORD, answer: CODE })).toBe(true);
    expect(received).toEqual([[PASSWORD], [CODE]]);
    expect(asked.map((q) => q.kind)).toEqual(['password', 'answer']);
    expect(asked[1]).toMatchObject({ prompt: 'Verification code:', remembered: false });
  });

  it('never sends the password to a prompt that is not a password prompt', async () => {
    received.length = 0;
    const asked: SecretQuestion[] = [];
    // The operator declines the code: the round is answered with nothing, not with the password.
    expect(await connect(asked, { password: PASSWORD })).toBe(false);
    expect(received[0]).toEqual([PASSWORD]);
    expect(received.slice(1).flat()).not.toContain(PASSWORD);
  });
});
