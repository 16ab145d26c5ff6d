import { KioskError } from '../../common/errors.js';
import type { DeviceState, RelayDriver } from '../ports.js';

/** A relay that records pulses and lets the test decide how it behaves. */
export class FakeRelay implements RelayDriver {
  state: DeviceState = 'disconnected';
  opens = 0;
  closes = 0;
  readonly pulses: number[] = [];
  stateAfterOpen: DeviceState = 'connected';
  failPulse = false;
  beforePulse: () => void = () => undefined;
  private readonly listeners = new Set<(state: DeviceState, error?: Error) => void>();

  open(): Promise<void> {
    this.opens += 1;
    this.setState(this.stateAfterOpen);
    return Promise.resolve();
  }

  pulse(ms: number): Promise<void> {
    this.beforePulse();
    this.pulses.push(ms);
    return this.failPulse
      ? Promise.reject(new KioskError('disconnected', 'board unplugged'))
      : Promise.resolve();
  }

  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closes += 1;
    this.setState('disconnected');
    return Promise.resolve();
  }

  setState(state: DeviceState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }
}
