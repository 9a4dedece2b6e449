import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  EVENT_NAMES,
  REQUEST_NAMES,
  ipcChannel,
  ipcEventChannel,
  type EventName,
  type EventPayload,
  type Reply,
  type RequestName,
} from '../../shared/contract.ts';
import { isRendererUrl } from './app-protocol.ts';

/** The part of the core the Electron door needs (Core satisfies it). */
export interface DoorCore {
  dispatch(name: RequestName, input: unknown): Promise<Reply>;
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** Our window's webContents, or undefined while there is none (macOS keeps the app without windows). */
export type WindowContents = () => WebContents | undefined;

export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

export const REFUSED: Reply = {
  ok: false,
  error: {
    code: 'UNAUTHORIZED',
    message: 'Refused: only the main frame of the iCBD Console window, loaded from app://renderer, may call the core.',
  },
};

/**
 * A request is ours when it comes from the main frame (not an iframe) of our own window, and that
 * frame shows our renderer. Anything else (a frame that navigated away, a devtools page, another
 * webContents) is refused before the core sees it.
 */
export function isTrustedSender(event: SenderEvent, ours: WebContents | undefined): boolean {
  const frame = event.senderFrame;
  if (!ours || !frame) return false;
  return event.sender.id === ours.id && frame.parent === null && isRendererUrl(frame.url);
}

/**
 * One ipcMain handler per request of the contract, on that request's own channel. Returns a
 * function that removes them all.
 */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, core: DoorCore, window: WindowContents): () => void {
  for (const name of REQUEST_NAMES) {
    ipcMain.handle(ipcChannel(name), (event, input: unknown) => (isTrustedSender(event, window()) ? core.dispatch(name, input) : REFUSED));
  }
  return () => {
    for (const name of REQUEST_NAMES) ipcMain.removeHandler(ipcChannel(name));
  };
}

/**
 * Every contract event of the core, to our window on that event's own channel, and only while the
 * window shows our renderer. Returns the unsubscriber.
 */
export function forwardEvents(core: DoorCore, window: WindowContents): () => void {
  const unsubscribers = EVENT_NAMES.map((name) =>
    core.on(name, (payload) => {
      const contents = window();
      if (contents && !contents.isDestroyed() && isRendererUrl(contents.getURL())) contents.send(ipcEventChannel(name), payload);
    }),
  );
  return () => unsubscribers.forEach((off) => off());
}
