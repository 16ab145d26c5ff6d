import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScanReport } from '../../contract/api.js';
import { watchKeyboardScanner } from './keyboard-scanner.js';

const options = { burstGapMs: 10, humanGapMs: 30, minLength: 4 };

/** A page event as the browser would deliver it, at `time` on the page's clock. */
function pageEvent(type: string, fields: Record<string, unknown>, time: number) {
  const event = new Event(type, { cancelable: true });
  Object.defineProperty(event, 'timeStamp', { value: time });
  for (const [name, value] of Object.entries(fields)) {
    Object.defineProperty(event, name, { value });
  }
  return event;
}

/** Types `text` into `target` `gapMs` apart from `start`, then Enter; returns the Enter event. */
function type(target: EventTarget, text: string, gapMs: number, start = 0): Event {
  let time = start;
  for (const key of text) {
    target.dispatchEvent(pageEvent('keydown', { key }, time));
    time += gapMs;
  }
  const enter = pageEvent('keydown', { key: 'Enter', code: 'Enter' }, time);
  target.dispatchEvent(enter);
  return enter;
}

function watch(target: EventTarget) {
  const scans: ScanReport[] = [];
  const warnings: string[] = [];
  const stop = watchKeyboardScanner(
    target,
    options,
    { onScan: (scan) => scans.push(scan), onWarning: (code) => warnings.push(code) },
    () => 10_000,
  );
  return { scans, warnings, stop };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a scanner typing into the kiosk window', () => {
  it('reports a burst ending in Enter as a scan with its UTF-8 bytes, and keeps Enter off the page', () => {
    const target = new EventTarget();
    const { scans, stop } = watch(target);

    const enter = type(target, 'PASS-1234', 3);
    stop();

    expect(scans).toEqual([
      { text: 'PASS-1234', bytesHex: '504153532d31323334', charset: 'UTF-8', source: 'scanner' },
    ]);
    expect(enter.defaultPrevented).toBe(true);
  });

  it('ignores a person typing and leaves their Enter alone', () => {
    const target = new EventTarget();
    const { scans, warnings, stop } = watch(target);

    const enter = type(target, 'hello', 120);
    stop();

    expect(scans).toEqual([]);
    expect(warnings).toEqual([]);
    expect(enter.defaultPrevented).toBe(false);
  });

  it('warns the technician, and reports no scan, when an input method composes the keys', () => {
    const target = new EventTarget();
    const { scans, warnings, stop } = watch(target);

    target.dispatchEvent(pageEvent('compositionstart', { data: '' }, 0));
    for (let index = 0; index < 6; index += 1) {
      target.dispatchEvent(pageEvent('keydown', { key: 'Process', isComposing: true }, index * 2));
    }
    target.dispatchEvent(pageEvent('keydown', { key: 'Enter' }, 14));
    stop();

    expect(scans).toEqual([]);
    expect(warnings).toEqual(['ime_active']);
  });

  it('judges a burst without Enter once the keys stop, and stops listening when told', () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    const { scans, warnings, stop } = watch(target);

    for (const [index, key] of [...'ABCDEF'].entries()) {
      target.dispatchEvent(pageEvent('keydown', { key }, index * 2));
    }
    vi.advanceTimersByTime(100);
    stop();
    type(target, 'PASS-1234', 3, 20_000);

    expect(warnings).toEqual(['unterminated_burst']);
    expect(scans).toEqual([]);
  });
});
