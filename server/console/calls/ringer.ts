/**
 * The ringing a guard hears: a soft two-note ring, twice every three seconds, made with WebAudio
 * so nothing is fetched. Browsers let a page make sound only after a gesture on it, so the page
 * calls `unlock` on the first click or key press (the login click counts); until then the
 * console says the sound is off. Quieter while the guard is already in a call.
 */
import { moduleLogger } from '../../../app/web/log.js';

const log = moduleLogger('ringer');

const cycleMs = 3000;
/** Start offset and length of each ring in a cycle, in seconds. */
const bursts = [
  { at: 0, length: 0.45 },
  { at: 0.65, length: 0.45 },
];
const notes = [659.25, 880];
const loudGain = 0.18;
const quietGain = 0.05;

/** Rings while told to; silent until a user gesture unlocked audio. */
export class Ringer {
  #context: AudioContext | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #ringing = false;
  #quiet = false;
  /** The bursts scheduled in the current cycle, cut off when the ringing stops. */
  #scheduled: GainNode[] = [];
  readonly #listeners = new Set<() => void>();

  /** True once the browser lets the page play sound. */
  get unlocked(): boolean {
    return this.#context?.state === 'running';
  }

  /** Call from a click or key press: creates or resumes the audio context. */
  unlock(): void {
    if (this.unlocked) return;

    try {
      this.#context ??= this.#createContext();
      void this.#context.resume().then(() => this.#changed());
    } catch (error) {
      log.warn('unlock: no audio', { error: String(error) });
    }
  }

  /** Rings (or stops) at once; `quiet` while the guard is busy with another call. */
  ring(on: boolean, quiet = false): void {
    this.#quiet = quiet;
    if (on === this.#ringing) return;

    this.#ringing = on;
    if (on) this.#startCycle();
    else this.#stopCycle();
  }

  /** Hears when sound becomes possible; returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #createContext(): AudioContext {
    const context = new AudioContext();
    context.onstatechange = () => this.#changed();
    return context;
  }

  #changed(): void {
    if (this.#ringing && this.unlocked && this.#timer === null) this.#startCycle();
    for (const listener of this.#listeners) listener();
  }

  // Locked, it waits: unlocking starts the ring at once instead of at the next cycle.
  #startCycle(): void {
    if (this.#timer !== null || !this.unlocked) return;

    this.#playCycle();
    this.#timer = setInterval(() => this.#playCycle(), cycleMs);
  }

  #stopCycle(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;

    for (const gain of this.#scheduled.splice(0)) gain.disconnect();
  }

  #playCycle(): void {
    const context = this.#context;
    if (!context || context.state !== 'running') return;

    const start = context.currentTime + 0.05;
    this.#scheduled = [];
    for (const burst of bursts) this.#playBurst(context, start + burst.at, burst.length);
  }

  #playBurst(context: AudioContext, at: number, length: number): void {
    const gain = context.createGain();
    const level = this.#quiet ? quietGain : loudGain;
    // Short ramps at both ends: a tone that starts or stops abruptly clicks.
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(level, at + 0.02);
    gain.gain.setValueAtTime(level, at + length - 0.04);
    gain.gain.linearRampToValueAtTime(0, at + length);
    gain.connect(context.destination);
    this.#scheduled.push(gain);

    for (const frequency of notes) {
      const oscillator = context.createOscillator();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start(at);
      oscillator.stop(at + length);
      oscillator.onended = () => oscillator.disconnect();
    }
  }
}
