import type { SecretsStatus } from '../../../shared/ssh.ts';
import { api } from './api.ts';

/** Whether passwords and passphrases are remembered (OS keychain) and, if not, why. Fixed for a run of the core. */
class Secrets {
  status = $state.raw<SecretsStatus>();
  error = $state<unknown>();

  async load(): Promise<void> {
    if (this.status) return;
    try {
      this.status = await api.invoke('secrets.status', {});
      this.error = undefined;
    } catch (err) {
      this.error = err;
    }
  }
}

export const secrets = new Secrets();
