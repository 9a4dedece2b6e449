import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Transport } from '../../shared/client.ts';
import { ipcChannel, ipcEventChannel, isEventName, isRequestName, type Reply } from '../../shared/contract.ts';

/**
 * The renderer's only bridge: the contract's transport as window.icbd. Each request and event has
 * its own channel, and names outside the contract are refused here before anything is sent.
 */
const transport: Transport = {
  invoke(name, input) {
    if (!isRequestName(name))
      return Promise.resolve<Reply>({ ok: false, error: { code: 'INVALID_INPUT', message: `There is no request called ${String(name)}.` } });
    return ipcRenderer.invoke(ipcChannel(name), input) as Promise<Reply>;
  },
  subscribe(name, listener) {
    if (!isEventName(name)) throw new Error(`There is no event called ${String(name)}.`);
    const channel = ipcEventChannel(name);
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.off(channel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('icbd', transport);
