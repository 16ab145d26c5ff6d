/**
 * Hands the screens the KioskApi and a fire-and-forget `send` for visitor actions, so a failed
 * command always ends up as a translated message instead of an unhandled rejection.
 */
import { createContext, useContext } from 'react';
import type { CommandInput, CommandName, KioskApi } from '../contract/api.js';
import { KioskError } from '../common/errors.js';
import { errorCode } from './error-message.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('kiosk-context');

/** What a screen may do: invoke the core directly, or send an action whose failure is shown. */
export interface KioskActions {
  api: KioskApi;
  send: <C extends CommandName>(command: C, input: CommandInput<C>) => void;
}

/** Builds the actions for `api`, passing the code of any failed command to `onError`. */
export function createKioskActions(api: KioskApi, onError: (code: string) => void): KioskActions {
  return {
    api,
    send(command, input) {
      api.invoke(command, input).catch((error: unknown) => {
        const code = errorCode(error);
        log.warn('send: failed', { command, code });
        onError(code);
      });
    },
  };
}

/** The provider's value; App sets it once the bridge is chosen. */
export const KioskContext = createContext<KioskActions | null>(null);

/** The actions of the nearest KioskContext; a screen outside one is a programming error. */
export function useKiosk(): KioskActions {
  const actions = useContext(KioskContext);
  if (!actions) throw new KioskError('internal', 'useKiosk outside a KioskContext provider');

  return actions;
}
