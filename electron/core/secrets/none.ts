import { AppError } from '../../../shared/errors.ts';
import type { SecretsStatus } from '../../../shared/ssh.ts';
import type { Secrets } from './secrets.ts';

/**
 * Used when no keychain answers: nothing is remembered, so every secret is asked for when it is
 * needed. Writing secrets to a file instead would defeat the point of asking for a keychain.
 */
export class NoSecrets implements Secrets {
  readonly status: SecretsStatus;

  constructor(reason: string) {
    this.status = { backend: 'none', persistent: false, reason };
  }

  async get(): Promise<undefined> {
    return undefined;
  }

  async set(): Promise<void> {
    throw new AppError('UNAVAILABLE', `Nothing can be remembered: ${this.status.reason}`);
  }

  async delete(): Promise<boolean> {
    return false;
  }
}
