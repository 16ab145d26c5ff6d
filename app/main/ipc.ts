/**
 * Binds the contract's IPC channels to the core. Nothing from the page is trusted: each call is
 * checked to come from the kiosk page's main frame on the app origin, and each payload is
 * validated against the contract's schema before the core sees it.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { ZodError } from 'zod';
import {
  commands,
  events,
  ipcChannel,
  parseCommandInput,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type EventName,
  type IpcReply,
  type KioskService,
} from '../contract/api.js';
import { KioskError } from '../common/errors.js';
import { moduleLogger } from '../core/log.js';
import { isAppUrl, originForLog } from './app-origin.js';

const log = moduleLogger('main.ipc');

/**
 * Registers one handler per command and forwards every core event to `contents`. Returns a
 * function that removes both, for shutdown and tests.
 */
export function bindIpc(kiosk: KioskService, contents: WebContents): () => void {
  const names = Object.keys(commands) as CommandName[];
  for (const name of names) {
    ipcMain.handle(ipcChannel(name), (event, input: unknown) =>
      replyOf(handleCommand(kiosk, contents, name, event, input)),
    );
  }

  const unsubscribers = (Object.keys(events) as EventName[]).map((name) =>
    forwardEvent(kiosk, contents, name),
  );
  log.info({ commands: names.length, events: unsubscribers.length }, 'bind: IPC channels ready');

  return () => {
    for (const name of names) ipcMain.removeHandler(ipcChannel(name));
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/** Wraps a command's outcome in a reply that keeps an error's code across IPC. */
async function replyOf<T>(outcome: Promise<T>): Promise<IpcReply<T>> {
  try {
    return { ok: true, output: await outcome };
  } catch (error) {
    if (error instanceof KioskError)
      return { ok: false, error: { code: error.code, message: error.message } };

    // Anything else is our bug: log it whole, and tell the page no more than that it failed.
    log.error({ err: error }, 'invoke: command failed unexpectedly');
    return { ok: false, error: { code: 'internal', message: 'the kiosk could not do that' } };
  }
}

async function handleCommand<C extends CommandName>(
  kiosk: KioskService,
  contents: WebContents,
  command: C,
  event: IpcMainInvokeEvent,
  input: unknown,
): Promise<CommandOutput<C>> {
  assertTrustedSender(event, contents, command);

  const payload = validatePayload(command, input);
  return kiosk.handle(command, payload);
}

/**
 * Throws `unauthorised` unless the call comes from our window's top frame on the app origin.
 * Frames are compared by their place (no parent) rather than object identity, which Electron
 * does not promise to keep stable.
 */
export function assertTrustedSender(
  event: IpcMainInvokeEvent,
  contents: WebContents,
  command: string,
): void {
  const frame = event.senderFrame;
  const trusted =
    event.sender.id === contents.id &&
    frame !== null &&
    frame.parent === null &&
    isAppUrl(frame.url);
  if (trusted) return;

  const origin = originForLog(frame?.url);
  log.warn(
    { command, origin, mainFrame: frame?.parent === null },
    'invoke: refused a call from an untrusted sender',
  );
  throw new KioskError('unauthorised', `${command}: caller is not the kiosk page`);
}

/** Parses a command's input; a misfit becomes `bad_payload` naming each wrong field. */
export function validatePayload<C extends CommandName>(
  command: C,
  input: unknown,
): CommandInput<C> {
  try {
    return parseCommandInput(command, input);
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;

    const problems = error.issues.map(
      (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
    );
    // Only the field paths are logged: the rejected values may be scanned text or photo data.
    log.warn(
      { command, fields: error.issues.map((issue) => issue.path.join('.')) },
      'invoke: bad payload refused',
    );
    throw new KioskError('bad_payload', `${command}: ${problems.join('; ')}`);
  }
}

function forwardEvent(kiosk: KioskService, contents: WebContents, name: EventName): () => void {
  return kiosk.subscribe(name, (payload) => {
    if (contents.isDestroyed()) return;

    contents.send(ipcChannel(name), payload);
  });
}
