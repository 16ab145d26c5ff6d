/**
 * A scanner that types its codes into the kiosk window (keyboard wedge). The page hears every key
 * anyway, so it tells the scanner's bursts from a person typing here and reports each burst as a
 * scan, as the camera reports a code; the core verifies it from the text like any other scan.
 * Input it cannot trust (an input method composing, lost keys) goes to the core as a warning for
 * the technician instead.
 */
import { useEffect, useRef } from 'react';
import type { KeyboardScanner, ScanReport } from '../../contract/api.js';
import {
  KeyboardWedge,
  type WedgeCompositionEvent,
  type WedgeEvent,
  type WedgeWarningCode,
} from '../../common/keyboard-wedge.js';
import { toScanReport } from '../../common/scanner-scan.js';
import { moduleLogger } from '../log.js';

const log = moduleLogger('keyboard-scanner');

type KeyTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;

/** What the page does with what the wedge found. */
export interface KeyboardScannerHandlers {
  onScan(report: ScanReport): void;
  onWarning(code: WedgeWarningCode): void;
}

/** The parts of the page's events the wedge reads; DOM events have them all. */
interface PageKeyEvent {
  type: string;
  key?: string;
  code?: string;
  isComposing?: boolean;
  data?: string;
  timeStamp: number;
  preventDefault(): void;
}

const compositionTypes = ['compositionstart', 'compositionupdate', 'compositionend'] as const;

/**
 * Listens on `target` for keys and input-method events; returns the function that stops. `now`
 * must run on the events' clock (performance.now() for DOM events).
 */
export function watchKeyboardScanner(
  target: KeyTarget,
  options: KeyboardScanner,
  handlers: KeyboardScannerHandlers,
  now: () => number = () => performance.now(),
): () => void {
  const wedge = new KeyboardWedge(options);
  let idle: ReturnType<typeof setTimeout> | undefined;

  const deliver = (results: ReturnType<KeyboardWedge['feed']>, event?: PageKeyEvent) => {
    for (const result of results) {
      // The Enter ending a burst must not also press whatever button has focus.
      if (result.kind !== 'error') event?.preventDefault();
      if (result.kind === 'scan') handlers.onScan(toScanReport(result.scan));
      else if (result.kind === 'warning') handlers.onWarning(result.warning.code);
      else log.warn('keys: dropped', { code: result.error.code, reason: result.error.message });
    }
  };

  // A burst that never got its Enter is judged once the keys stop, not when the next one comes.
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => deliver(wedge.flush(now())), options.humanGapMs + 5);
  };

  const listener = (raw: Event) => {
    const event = raw as unknown as PageKeyEvent;
    deliver(wedge.feed(toWedgeEvent(event)), event);
    armIdle();
  };
  const forget = () => wedge.reset();

  const types = ['keydown', ...compositionTypes];
  for (const type of types) target.addEventListener(type, listener);
  target.addEventListener('blur', forget);
  return () => {
    clearTimeout(idle);
    for (const type of types) target.removeEventListener(type, listener);
    target.removeEventListener('blur', forget);
  };
}

function toWedgeEvent(event: PageKeyEvent): WedgeEvent {
  if (event.type === 'keydown') {
    return {
      type: 'keydown',
      key: event.key ?? '',
      code: event.code,
      isComposing: event.isComposing,
      time: event.timeStamp,
    };
  }

  // Only keydown and the composition events are listened to.
  const type = event.type as WedgeCompositionEvent['type'];
  return { type, data: event.data, time: event.timeStamp };
}

/** Watches the window while the view names a keyboard scanner. */
export function useKeyboardScanner(
  options: KeyboardScanner | null,
  handlers: KeyboardScannerHandlers,
): void {
  const handlersRef = useRef(handlers);

  useEffect(() => {
    handlersRef.current = handlers;
  }, [handlers]);

  const { burstGapMs, humanGapMs, minLength } = options ?? {};
  useEffect(() => {
    if (burstGapMs === undefined || humanGapMs === undefined || minLength === undefined) {
      return undefined;
    }

    return watchKeyboardScanner(
      window,
      { burstGapMs, humanGapMs, minLength },
      {
        onScan: (report) => handlersRef.current.onScan(report),
        onWarning: (code) => handlersRef.current.onWarning(code),
      },
    );
  }, [burstGapMs, humanGapMs, minLength]);
}
