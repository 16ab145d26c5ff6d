/**
 * The narrow bridge between the sandboxed page and main. The page gets `window.kiosk`, which can
 * invoke the contract's commands and listen to its events and nothing else; `ipcRenderer` itself
 * never crosses the bridge, so the page cannot reach any other channel.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EventName,
  EventPayload,
  IpcReply,
  KioskApi,
} from '../contract/api.js';

// Only types come from the contract: its schemas would pull zod (~700 KB) into a script that
// runs on every page load. These tables are typed as records over the contract's names, so the
// compiler fails here when a command or event is added or removed there.
const commandTable: Readonly<Record<CommandName, true>> = {
  'view:get': true,
  'visitor:touch': true,
  'visitor:startScan': true,
  'visitor:showPrivacy': true,
  'visitor:cancel': true,
  'visitor:setLocale': true,
  'scan:report': true,
  'scanner:warning': true,
  'photo:submit': true,
  'visitor:call': true,
  'visitor:hangUp': true,
  'call:signal': true,
  'call:media': true,
};

const eventTable: Readonly<Record<EventName, true>> = {
  'view:changed': true,
  'call:signal': true,
};

/** The IPC channel of a command or event; must match the contract's `ipcChannel` (tested). */
export const channelOf = (name: CommandName | EventName): string => `kiosk:${name}`;

function isKnown(table: object, name: unknown): name is string {
  return typeof name === 'string' && Object.hasOwn(table, name);
}

function invoke<C extends CommandName>(
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  if (!isKnown(commandTable, command))
    return Promise.reject(new Error(`unknown command: ${String(command)}`));

  return (
    ipcRenderer.invoke(channelOf(command), input) as Promise<IpcReply<CommandOutput<C>>>
  ).then(unwrapReply);
}

/**
 * Turns main's reply back into a result or a rejection. The context bridge rebuilds an error
 * from its message alone, so the code also leads the message, where the page can read it back.
 */
function unwrapReply<T>(reply: IpcReply<T>): T {
  if (reply.ok) return reply.output;

  const error = new Error(`${reply.error.code}: ${reply.error.message}`);
  throw Object.assign(error, { name: 'KioskError', code: reply.error.code });
}

function on<E extends EventName>(
  event: E,
  listener: (payload: EventPayload<E>) => void,
): () => void {
  if (!isKnown(eventTable, event)) throw new Error(`unknown event: ${String(event)}`);
  if (typeof listener !== 'function') throw new Error('listener must be a function');

  const channel = channelOf(event);
  // The IPC event object is dropped: it carries `sender`, which must not reach the page.
  const forward = (_event: IpcRendererEvent, payload: EventPayload<E>): void => listener(payload);
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

/** The API the page sees as `window.kiosk`. */
export const kioskApi: KioskApi = { invoke, on };

contextBridge.exposeInMainWorld('kiosk', kioskApi);
