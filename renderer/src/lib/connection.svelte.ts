import type { Output } from '../../../shared/contract.ts';
import { AppError, isWireError } from '../../../shared/errors.ts';
import { api } from './api.ts';
import { TOKEN_REFUSED } from './ws-transport.ts';

export type AppInfo = Output<'app.info'>;

const HEARTBEAT_MS = 5000;
const ANSWER_WITHIN_MS = 4000;

export type LinkState = 'connecting' | 'online' | 'offline' | 'refused';

const isRefusal = (err: unknown) => isWireError(err) && (err.detail as { reason?: unknown } | undefined)?.reason === TOKEN_REFUSED;

/**
 * Who we are talking to (app.info) and whether it still answers. In browser mode the socket to
 * icbd serve can drop while the window is idle, and the transport does not say so; a cheap
 * app.info heartbeat notices, so the header can show it. Electron's IPC cannot drop. A server
 * that refuses this tab's token (restarted with a new one) is final: `refused`, and no more checks.
 */
class Connection {
  /** Kept from the last answer after the link is lost: the data directory names the server to reopen. */
  info = $state.raw<AppInfo>();
  state = $state<LinkState>('connecting');
  error = $state<unknown>();

  async #check(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError(
              'UNAVAILABLE',
              `The console's core has not answered for ${ANSWER_WITHIN_MS / 1000} s. In browser mode, check that icbd serve is still running.`,
            ),
          ),
        ANSWER_WITHIN_MS,
      );
    });
    try {
      this.info = await Promise.race([api.invoke('app.info', {}), silence]);
      this.state = 'online';
      this.error = undefined;
    } catch (err) {
      this.state = isRefusal(err) ? 'refused' : 'offline';
      this.error = err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Checks now, then keeps checking in browser mode until the returned function is called. */
  follow(): () => void {
    void this.#check();
    const heartbeat = setInterval(() => {
      if (this.state === 'refused') clearInterval(heartbeat);
      else if (this.info?.door !== 'electron') void this.#check();
    }, HEARTBEAT_MS);
    return () => clearInterval(heartbeat);
  }
}

export const connection = new Connection();
