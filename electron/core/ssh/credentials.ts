import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type AuthHandlerMiddleware, type AnyAuthMethod, type AuthenticationType, type ParsedKey } from 'ssh2';

// ssh2 is CommonJS and Node's ESM loader cannot see `utils` as a named export: take it from the default.
const { utils } = ssh2;
import type { Host } from '../../../shared/inventory.ts';
import type { SecretQuestion } from '../../../shared/ssh.ts';
import { accounts, type Secrets } from '../secrets/secrets.ts';

export type AskSecret = (q: SecretQuestion) => Promise<string | undefined>;

export interface CredentialOptions {
  host: Host;
  secrets: Secrets;
  askSecret?: AskSecret;
  /** ssh-agent socket; undefined when there is no agent to try. */
  agentSocket?: string;
  /** Where default identities (id_ed25519, id_ecdsa, id_rsa) are looked for. */
  sshDir: string;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** The reason of a question when the keychain simply has no such secret: nothing more to say. */
export const NONE_STORED = 'None is stored in the keychain.';

export function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/**
 * The credentials of one connection attempt, offered in OpenSSH's order: agent, key files,
 * password (also answering keyboard-interactive's password prompt). Every secret is fetched only when the server
 * says it would accept that method, from the keychain first, then by asking; one that was asked
 * for and worked is saved once the connection is up, never before it is proven.
 */
export class Credentials {
  /** What was offered, in words, for the "refused every credential" message (never a secret). */
  readonly tried: string[] = [];
  #steps: ((left: AuthenticationType[] | null) => Promise<AnyAuthMethod | undefined>)[];
  #pending: { account: string; value: string } | undefined;
  #storedPasswordTried = false;
  #kbdPasswordRounds = 0;

  constructor(private readonly o: CredentialOptions) {
    const user = o.host.user;
    const files = o.host.identityFile ? [expandHome(o.host.identityFile)] : DEFAULT_IDENTITIES.map((f) => join(o.sshDir, f)).filter((f) => existsSync(f));
    this.#steps = [
      // As OpenSSH does: "none" first, to learn which methods the server takes before any
      // secret is fetched (a password is only looked up if the server would accept one).
      async (left) => (left === null ? { type: 'none', username: user } : undefined),
      async (left) => {
        if (!o.agentSocket || !left?.includes('publickey') || !existsSync(o.agentSocket)) return undefined;
        this.tried.push('the keys of ssh-agent');
        return { type: 'agent', username: user, agent: o.agentSocket };
      },
      ...files.map((file) => async (left: AuthenticationType[] | null): Promise<AnyAuthMethod | undefined> => {
        if (!left?.includes('publickey')) return undefined;
        const key = await this.#loadKey(file);
        if (!key) return undefined;
        this.tried.push(`the key ${file}`);
        return { type: 'publickey', username: user, key };
      }),
      async (left) => {
        if (!left?.includes('password')) return undefined;
        const password = await this.#password('stored');
        return password === undefined ? undefined : { type: 'password', username: user, password };
      },
      async (left) => {
        if (!left?.includes('password') || !this.#storedPasswordTried) return undefined;
        // The stored password was refused: ask once for the right one.
        const password = await this.#password('refused');
        return password === undefined ? undefined : { type: 'password', username: user, password };
      },
      async (left) => {
        if (!left?.includes('keyboard-interactive') || left.includes('password')) return undefined;
        return {
          type: 'keyboard-interactive',
          username: user,
          prompt: (name, instructions, _lang, prompts, finish) => void this.#answer(name, instructions, prompts).then(finish, () => finish([])),
        };
      },
    ];
  }

  readonly handler: AuthHandlerMiddleware = (left, _partial, next) => {
    void this.#next(left).then(
      (r) => next(r ?? (false as unknown as AnyAuthMethod)),
      () => next(false as unknown as AnyAuthMethod),
    );
  };

  async #next(left: AuthenticationType[] | null): Promise<AnyAuthMethod | undefined> {
    for (let step = this.#steps.shift(); step; step = this.#steps.shift()) {
      const r = await step(left);
      if (r) return r;
    }
    return undefined;
  }

  /**
   * One keyboard-interactive round. Servers with PasswordAuthentication off still ask for the
   * password this way (PAM): a single echo-off password prompt gets it, from the keychain the
   * first time, asked for after a refusal. Anything else (a one-time code, a question) is asked of
   * the operator as the server words it and never stored, as OpenSSH does.
   */
  async #answer(name: string, instructions: string, prompts: readonly { prompt: string; echo?: boolean }[]): Promise<string[]> {
    if (prompts.length === 0) return [];
    const [only] = prompts;
    if (prompts.length === 1 && !only!.echo && /password/i.test(only!.prompt) && !/one-time|otp|code|token/i.test(only!.prompt)) {
      const password = await this.#password(this.#kbdPasswordRounds++ === 0 ? 'stored' : 'refused');
      return password === undefined ? [] : [password];
    }
    const said = [name, instructions].map((t) => t.trim()).filter(Boolean).join(' — ');
    const answers: string[] = [];
    for (const p of prompts) {
      const answer = await this.#ask(
        { kind: 'answer', prompt: `${said ? `${said}: ` : ''}${p.prompt.trim()}`, reason: 'The server asks this (a one-time code or a question), so it is never stored.' },
        false,
      );
      if (answer === undefined) return [];
      answers.push(answer);
    }
    return answers;
  }

  /** Called once authenticated: an asked-for password that worked is remembered. */
  async succeeded(): Promise<void> {
    const p = this.#pending;
    this.#pending = undefined;
    if (p && this.o.secrets.status.persistent) await this.o.secrets.set(p.account, p.value).catch(() => undefined);
  }

  async #password(why: 'stored' | 'refused'): Promise<string | undefined> {
    const { host, secrets } = this.o;
    const account = accounts.password(host.user, host.address, host.port);
    const who = `${host.user}@${host.address}${host.port === 22 ? '' : `:${host.port}`}`;
    if (why === 'stored') {
      const stored = await secrets.get(account).catch(() => undefined);
      if (stored !== undefined) {
        this.#storedPasswordTried = true;
        this.tried.push(`the password stored in the keychain for ${who}`);
        return stored;
      }
    }
    const answer = await this.#ask({
      kind: 'password',
      prompt: `Password for ${who} (${host.name})`,
      reason: why === 'refused' ? 'The password stored in the keychain was refused.' : this.#noneStored(),
    });
    if (answer === undefined) return undefined;
    this.tried.push(`the password typed for ${who}`);
    this.#pending = { account, value: answer };
    return answer;
  }

  async #loadKey(file: string): Promise<ParsedKey | undefined> {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      this.tried.push(`the key ${file} (unreadable)`);
      return undefined;
    }
    const plain = firstKey(utils.parseKey(data));
    if (!(plain instanceof Error)) return plain;
    if (!/no passphrase given/i.test(plain.message)) {
      this.tried.push(`the key ${file} (not a private key ssh2 can read)`);
      return undefined;
    }
    const account = accounts.passphrase(file);
    const stored = await this.o.secrets.get(account).catch(() => undefined);
    if (stored !== undefined) {
      const key = firstKey(utils.parseKey(data, stored));
      if (!(key instanceof Error)) return key;
    }
    const answer = await this.#ask({
      kind: 'passphrase',
      prompt: `Passphrase for ${file}`,
      reason: stored !== undefined ? 'The passphrase stored in the keychain does not unlock this key.' : this.#noneStored(),
    });
    if (answer !== undefined) {
      const key = firstKey(utils.parseKey(data, answer));
      if (!(key instanceof Error)) {
        // Decrypting proves a passphrase right, so it is remembered now, unlike a password.
        if (this.o.secrets.status.persistent) await this.o.secrets.set(account, answer).catch(() => undefined);
        return key;
      }
    }
    this.tried.push(`the key ${file} (encrypted; ${answer === undefined ? 'no passphrase available' : 'wrong passphrase'})`);
    return undefined;
  }

  #noneStored(): string {
    const s = this.o.secrets.status;
    if (!s.persistent) return `Nothing is remembered: ${s.reason ?? 'no keychain'}`;
    const note = this.o.secrets.missingNote;
    return note ? `None is stored in the keychain; ${note}` : NONE_STORED;
  }

  async #ask(q: Omit<SecretQuestion, 'host' | 'remembered'>, kept = this.o.secrets.status.persistent): Promise<string | undefined> {
    if (!this.o.askSecret) return undefined;
    return this.o.askSecret({ ...q, host: this.o.host.name, remembered: kept });
  }
}

function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  if (k instanceof Error) return k;
  return Array.isArray(k) ? (k[0] ?? new Error('The key file holds no key.')) : k;
}
