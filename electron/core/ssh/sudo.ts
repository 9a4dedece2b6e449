import { randomBytes } from 'node:crypto';
import { AppError } from '../../../shared/errors.ts';
import type { Host } from '../../../shared/inventory.ts';
import { accounts, type Secrets } from '../secrets/secrets.ts';
import type { AskSecret } from './credentials.ts';

/**
 * sudo for non-root users. sudo runs with -S and a prompt unique to this command; the password is
 * written to its stdin only when that prompt shows up on stderr. A NOPASSWD rule never prompts,
 * so no password is fetched or sent (the effect of -n, without guessing the rules in advance),
 * and a password can never end up in the stdin of the command itself.
 */
export class SudoPassword {
  readonly prompt = `[icbd-sudo:${randomBytes(8).toString('hex')}]`;
  #fromKeychain = false;
  #asked: string | undefined;
  #given: string | undefined;

  constructor(
    private readonly host: Host,
    private readonly secrets: Secrets,
    private readonly askSecret?: AskSecret,
    private readonly known?: string,
  ) {}

  /** For the command that stops this one: the password already given, without asking again. */
  again(): SudoPassword {
    return new SudoPassword(this.host, this.secrets, this.askSecret, this.#given);
  }

  get #account(): string {
    return accounts.sudo(this.host.user, this.host.address, this.host.port);
  }

  /** The password for sudo's nth prompt (1 or 2), or undefined when none can be had. */
  async forPrompt(n: number): Promise<string | undefined> {
    this.#given = await this.#forPrompt(n);
    return this.#given;
  }

  async #forPrompt(n: number): Promise<string | undefined> {
    if (n === 1 && this.known !== undefined) return this.known;
    if (n === 1) {
      const stored = await this.secrets.get(this.#account).catch(() => undefined);
      if (stored !== undefined) {
        this.#fromKeychain = true;
        return stored;
      }
    } else if (!this.#fromKeychain || this.#asked !== undefined) {
      return undefined; // what the operator typed was refused: asking again in a loop helps nobody
    }
    if (!this.askSecret) return undefined;
    const s = this.secrets.status;
    this.#asked = await this.askSecret({
      kind: 'sudo',
      host: this.host.name,
      prompt: `sudo password of ${this.host.user} on ${this.host.name}`,
      reason: n === 2 ? 'The sudo password stored in the keychain was refused.' : s.persistent ? 'None is stored in the keychain.' : `Nothing is remembered: ${s.reason ?? 'no keychain'}`,
      remembered: s.persistent,
    });
    return this.#asked;
  }

  /** The command started: a typed password was right, so it is remembered. */
  async accepted(): Promise<void> {
    if (this.#asked !== undefined && this.secrets.status.persistent) await this.secrets.set(this.#account, this.#asked).catch(() => undefined);
  }

  /** Why sudo (or the launcher) exited before the command started, as an error that says what to do. */
  refusal(stderr: string, code: number | null, promptsSeen: number): AppError {
    const { user, name } = this.host;
    const text = stderr.replaceAll(this.prompt, '');
    if (code === 127 && /sudo/.test(text)) return new AppError('UNAVAILABLE', `sudo is not installed on ${name}: install it there (apt install sudo / dnf install sudo) or connect as root.`);
    if (/must have a tty|requiretty/.test(text))
      return new AppError('UNAVAILABLE', `sudo on ${name} insists on a terminal (Defaults requiretty): remove that line with visudo, or connect as root.`);
    if (/not in the sudoers|not allowed to (run|execute)|may not run sudo/.test(text))
      return new AppError('UNAUTHORIZED', `${user} may not use sudo on ${name}: add a rule such as "${user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/${user}, or connect as root.`);
    if (promptsSeen > 1 || /incorrect password|Sorry, try again/.test(text))
      return new AppError(
        'UNAUTHORIZED',
        `sudo on ${name} refused the password ${this.#fromKeychain && this.#asked === undefined ? 'stored in the keychain' : 'given'} for ${user}: store the right one and try again.`,
      );
    if (promptsSeen > 0 || /password is required|no password was provided/.test(text))
      return new AppError(
        'UNAUTHORIZED',
        `sudo on ${name} asks for ${user}'s password and none is available: store it in the keychain (or answer the prompt), or give ${user} a NOPASSWD rule.`,
      );
    return new AppError('REMOTE_FAILED', `The command could not start on ${name}: ${lastLine(text) || `exit code ${code}`}.`);
  }
}

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}
