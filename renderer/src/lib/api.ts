import { createClient, type Client, type Transport } from '../../../shared/client.ts';
import { wsTransport } from './ws-transport.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    icbd?: Transport;
  }
}

/** The one client the renderer uses: Electron's preload when present, else browser mode's WebSocket. */
export const api: Client = createClient(window.icbd ?? wsTransport());
