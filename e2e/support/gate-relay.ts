/** What the test kiosks' relay board saw on its wire: the gate opening, or staying shut. */
import { expect } from '@playwright/test';
import type { KioskSystem, RelayFrame } from './kiosk-fixture.js';

type Simulator = KioskSystem['simulator'];

// The kiosk configuration leaves the relay channel at its default.
const gateChannel = 1;
/** Long enough for bytes to cross the pseudo-terminal had anything opened. */
export const noOpeningWindowMs = 1_500;

/** The relay frame that turned the gate's channel on or off, already received or still to come. */
export function relayFrame(
  simulator: Simulator,
  on: boolean,
  timeoutMs: number,
  after = 0,
): Promise<RelayFrame> {
  return simulator.waitForFrame(
    (frame) => frame.channel === gateChannel && frame.on === on && frame.at >= after,
    timeoutMs,
  );
}

/** The relay was driven off at start-up and never on, within a window a pulse would show in. */
export async function expectGateStayedShut(simulator: Simulator): Promise<void> {
  // The start-up off frame proves the board is wired up, so "no on frame" means something.
  await relayFrame(simulator, false, 5_000);

  await expect(simulator.waitForFrame((frame) => frame.on, noOpeningWindowMs)).rejects.toThrow(
    /within/,
  );
  expect(simulator.frames().filter((frame) => frame.on)).toEqual([]);
}
