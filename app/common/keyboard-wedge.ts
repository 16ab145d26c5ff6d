/**
 * Tells a keyboard-wedge scanner from a person at the keyboard. Such a scanner types its code as
 * key presses a few milliseconds apart and ends it with Enter; people type slower than about
 * 30 ms a key. Fed the page's key and composition events (KeyboardEvent.key, .code, .timeStamp),
 * it turns each burst into a scan and tells the technician why a burst could not be trusted: an
 * input method (Chinese IME) eating or converting the keys, dead or unidentified keys losing
 * characters, a keyboard layout moving letters. Pure: no Node or DOM imports, so the page and the
 * core can both run it.
 */
import { KioskError } from './errors.js';
import { maxScanBytes, scanFromBytes, type ScannerScan } from './scanner-scan.js';

/** A keydown as the page saw it. */
export interface WedgeKeyEvent {
  type?: 'keydown';
  /** KeyboardEvent.key: the character typed, or a key name such as Enter or Process. */
  key: string;
  /** KeyboardEvent.code: the physical key, e.g. KeyA, when known. */
  code?: string;
  /** KeyboardEvent.isComposing: an input method is composing. */
  isComposing?: boolean;
  /** Event time in milliseconds (KeyboardEvent.timeStamp). */
  time: number;
}

/** An input method composition event as the page saw it. */
export interface WedgeCompositionEvent {
  type: 'compositionstart' | 'compositionupdate' | 'compositionend';
  data?: string;
  time: number;
}

/** One event fed to the wedge. */
export type WedgeEvent = WedgeKeyEvent | WedgeCompositionEvent;

/** Why a burst could not be trusted, for the technician's diagnostics. */
export const wedgeWarningCodes = [
  /** An input method is on: keys were composed into characters or eaten (key Process). */
  'ime_active',
  /** Dead or unidentified keys: characters of the payload were lost. */
  'lossy_payload',
  /** The keyboard layout is not the scanner's (e.g. KeyQ typed `a`): letters are moved. */
  'layout_mismatch',
  /** Characters outside ASCII arrived; wedge mode rarely carries them intact. */
  'non_ascii',
  /** A burst ended without Enter: the scanner's suffix is not what the wedge expects. */
  'unterminated_burst',
  /** Keys ending in Enter came faster than a person types but slower than a scanner burst. */
  'slow_burst',
] as const;
export type WedgeWarningCode = (typeof wedgeWarningCodes)[number];

/** A warning for the technician. */
export interface WedgeWarning {
  code: WedgeWarningCode;
  message: string;
}

/** What feeding one event (or flushing) produced. */
export type WedgeResult =
  | { kind: 'scan'; scan: ScannerScan }
  | { kind: 'warning'; warning: WedgeWarning }
  | { kind: 'error'; error: KioskError };

/** Thresholds of the burst detector. */
export interface KeyboardWedgeOptions {
  /** A burst's keys are at most this far apart on average. Default 10. */
  burstGapMs?: number;
  /** Keys further apart than this are a person typing: the run ends. Default 30. */
  humanGapMs?: number;
  /** Fewer characters than this are never a scan (fast typists roll two keys). Default 4. */
  minLength?: number;
  /** Key names that end a code. Default Enter. */
  terminators?: readonly string[];
  /** Longest code accepted, in characters. Default 8192. */
  maxLength?: number;
}

/** Marks of trouble seen in a run of keys. */
interface RunFlags {
  ime: boolean;
  lossy: boolean;
  layout: boolean;
  nonAscii: boolean;
  overlong: boolean;
}

/** Keys typed close together, possibly a scanner's burst. */
interface Run {
  text: string;
  length: number;
  keys: number;
  firstAt: number;
  lastAt: number;
  flags: RunFlags;
}

/** Keys that only modify others; scanners press Shift for capitals. */
const modifierKeys = new Set([
  'Shift',
  'Control',
  'Alt',
  'AltGraph',
  'Meta',
  'CapsLock',
  'NumLock',
  'ScrollLock',
  'Fn',
  'OS',
]);

/** US layout: what each digit key types unshifted (index) and shifted. */
const shiftedDigits = ')!@#$%^&*(';

/** Finds scanner bursts in a stream of key events. */
export class KeyboardWedge {
  private run: Run | undefined;
  private readonly options: Required<KeyboardWedgeOptions>;

  constructor(options: KeyboardWedgeOptions = {}) {
    this.options = {
      burstGapMs: options.burstGapMs ?? 10,
      humanGapMs: options.humanGapMs ?? 30,
      minLength: options.minLength ?? 4,
      terminators: options.terminators ?? ['Enter'],
      maxLength: options.maxLength ?? maxScanBytes,
    };
    if (!(this.options.burstGapMs > 0) || !(this.options.humanGapMs >= this.options.burstGapMs))
      throw new KioskError('config_invalid', 'burstGapMs must be positive and ≤ humanGapMs');
  }

  /** Feeds one event; returns the scans, warnings and errors it completed. */
  feed(event: WedgeEvent): WedgeResult[] {
    const invalid = checkEvent(event);
    if (invalid) return [invalid];

    const results = this.endRunIfBroken(event.time);
    if (event.type === undefined || event.type === 'keydown') this.key(event, results);
    else this.markIme(event.time);
    return results;
  }

  /** Ends a run no key has followed for longer than humanGapMs; call from an idle timer. */
  flush(now: number): WedgeResult[] {
    if (!Number.isFinite(now)) return [badEvent('flush time must be a finite number')];

    return this.endRunIfBroken(now);
  }

  /** Forgets the keys seen so far, e.g. when the page loses focus. */
  reset(): void {
    this.run = undefined;
  }

  private endRunIfBroken(now: number): WedgeResult[] {
    const run = this.run;
    if (!run) return [];

    const gap = now - run.lastAt;
    if (gap >= 0 && gap <= this.options.humanGapMs) return [];

    return this.endRun(false);
  }

  private key(event: WedgeKeyEvent, results: WedgeResult[]): void {
    const { key, time } = event;
    if (modifierKeys.has(key)) return;

    // Whatever an input method is composing never reaches the page as the keys typed.
    if (event.isComposing) return this.markIme(time);

    if (this.options.terminators.includes(key)) {
      this.touch(time);
      results.push(...this.endRun(true));
      return;
    }

    const char = characterOf(key);
    if (char === undefined) return this.namedKey(event, results);

    this.addCharacter(this.touch(time), char, event.code, results);
  }

  /** Key names other than characters, terminators and modifiers. */
  private namedKey(event: WedgeKeyEvent, results: WedgeResult[]): void {
    switch (event.key) {
      case 'Process':
        this.markIme(event.time);
        return;
      case 'Dead':
      case 'Unidentified':
        this.touch(event.time).flags.lossy = true;
        return;
      default:
        // Arrows, Backspace, Escape and the like come from a person, never from a scanner.
        results.push(...this.endRun(false));
    }
  }

  private addCharacter(run: Run, char: string, code: string | undefined, results: WedgeResult[]) {
    if (run.flags.overlong) return;

    run.text += char;
    run.length += 1;
    markCharacter(run.flags, char, code);
    if (run.length <= this.options.maxLength) return;

    run.flags.overlong = true;
    run.text = '';
    results.push({
      kind: 'error',
      error: new KioskError('bad_frame', `keyboard burst over ${this.options.maxLength} keys`),
    });
  }

  private markIme(time: number): void {
    this.touch(time).flags.ime = true;
  }

  /** The run this event belongs to, started if need be, with the event's time recorded. */
  private touch(time: number): Run {
    const run = (this.run ??= {
      text: '',
      length: 0,
      keys: 0,
      firstAt: time,
      lastAt: time,
      flags: { ime: false, lossy: false, layout: false, nonAscii: false, overlong: false },
    });
    run.keys += 1;
    run.lastAt = time;
    return run;
  }

  /** Judges the run that just ended: a scan, warnings, or a person's typing (nothing). */
  private endRun(terminated: boolean): WedgeResult[] {
    const run = this.run;
    this.run = undefined;
    if (!run) return [];
    if (!this.isBurst(run)) return terminated && this.isSlowBurst(run) ? [slowBurst(run)] : [];

    const { flags } = run;
    if (flags.overlong) return [];
    if (flags.ime) return [warning('ime_active', 'an input method composed or ate scanner keys')];
    if (flags.lossy) return [warning('lossy_payload', 'dead or unidentified keys lost characters')];
    if (!terminated)
      return [warning('unterminated_burst', 'a scanner burst ended without Enter; set its suffix')];

    return [...scanWarnings(flags), { kind: 'scan', scan: toScan(run.text) }];
  }

  private isBurst(run: Run): boolean {
    return this.isLongEnough(run) && meanGap(run) <= this.options.burstGapMs;
  }

  /**
   * Every key came within humanGapMs of the last, so no person typed it, yet slower than a
   * scanner's burst: most likely a scanner set to pause between keys. Said, not taken as a scan.
   */
  private isSlowBurst(run: Run): boolean {
    return this.isLongEnough(run) && meanGap(run) <= this.options.humanGapMs;
  }

  private isLongEnough(run: Run): boolean {
    return run.keys >= 2 && Math.max(run.length, run.keys - 1) >= this.options.minLength;
  }
}

function meanGap(run: Run): number {
  return (run.lastAt - run.firstAt) / (run.keys - 1);
}

function slowBurst(run: Run): WedgeResult {
  const gap = Math.round(meanGap(run));
  return warning(
    'slow_burst',
    `keys ending in Enter came ${gap} ms apart on average, slower than a scanner burst: ` +
      'if a scanner typed them, raise scanner.keyboard.burstGapMs',
  );
}

/** Warnings that do not stop a scan: its text is what arrived, but it may not be what was sent. */
function scanWarnings(flags: RunFlags): WedgeResult[] {
  const results: WedgeResult[] = [];
  if (flags.layout)
    results.push(warning('layout_mismatch', 'the keyboard layout moves keys the scanner types'));
  if (flags.nonAscii)
    results.push(warning('non_ascii', 'non-ASCII characters arrived; prefer HID-POS or serial'));
  return results;
}

function markCharacter(flags: RunFlags, char: string, code: string | undefined): void {
  const codePoint = char.codePointAt(0) ?? 0;
  if (isCjkOrFullWidth(codePoint)) flags.ime = true;
  else if (codePoint > 0x7f) flags.nonAscii = true;
  else if (code !== undefined && !fitsUsLayout(char, code)) flags.layout = true;
}

/** True where `code` is a letter or digit key and `char` is not what a US layout puts there. */
function fitsUsLayout(char: string, code: string): boolean {
  if (/^Key[A-Z]$/.test(code)) return char.toLowerCase() === code[3].toLowerCase();

  const digit = /^Digit([0-9])$/.exec(code)?.[1];
  if (digit === undefined) return true;

  return char === digit || char === shiftedDigits[Number(digit)];
}

/** CJK scripts, kana, hangul and full-width forms: what an input method turns keys into. */
function isCjkOrFullWidth(codePoint: number): boolean {
  const ranges: ReadonlyArray<readonly [number, number]> = [
    [0x3000, 0x30ff],
    [0x3400, 0x4dbf],
    [0x4e00, 0x9fff],
    [0xac00, 0xd7af],
    [0xf900, 0xfaff],
    [0xff00, 0xffef],
    [0x20000, 0x3134f],
  ];
  return ranges.some(([low, high]) => codePoint >= low && codePoint <= high);
}

/** The character a key typed, Tab included; undefined for key names. */
function characterOf(key: string): string | undefined {
  if (key === 'Tab') return '\t';

  const codePoints = [...key];
  return codePoints.length === 1 ? key : undefined;
}

function toScan(text: string): ScannerScan {
  return scanFromBytes(new TextEncoder().encode(text), 'keyboard');
}

function warning(code: WedgeWarningCode, message: string): WedgeResult {
  return { kind: 'warning', warning: { code, message } };
}

function badEvent(message: string): WedgeResult {
  return { kind: 'error', error: new KioskError('bad_payload', message) };
}

function checkEvent(event: WedgeEvent): WedgeResult | undefined {
  if (typeof event !== 'object' || event === null) return badEvent('event must be an object');
  if (typeof event.time !== 'number' || !Number.isFinite(event.time))
    return badEvent('event time must be a finite number');

  const isComposition =
    event.type === 'compositionstart' ||
    event.type === 'compositionupdate' ||
    event.type === 'compositionend';
  if (isComposition) return undefined;
  if (event.type !== undefined && event.type !== 'keydown')
    return badEvent(`unknown event type ${String(event.type)}`);
  if (typeof event.key !== 'string' || event.key.length === 0)
    return badEvent('key must be a non-empty string');
  return undefined;
}
