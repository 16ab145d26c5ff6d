/**
 * What the kiosk core's tests build a kiosk from and watch it with: a configuration on a scratch
 * folder with a fake relay port, and a wait for the view the screen would show.
 */
import type { KioskView } from '../../contract/api.js';
import { parseConfig, type KioskConfig } from '../config.js';
import type { Kiosk } from '../kiosk.js';
import type { SiteKeyPair } from '../passes.js';

/** A configuration storing in `folder` and trusting `keys`, with `overrides` on top. */
export function testConfig(
  folder: string,
  keys: SiteKeyPair,
  overrides: Record<string, unknown> = {},
): KioskConfig {
  return parseConfig({
    dataDir: folder,
    storeKey: 'test-store-key-0123456789abcdef',
    passes: { publicKeys: [keys.publicJwk] },
    relay: { kind: 'lcus', port: '/dev/ttyFAKE0', pulseMs: 300 },
    ...overrides,
  });
}

/** Resolves with the first view (current or pushed) that satisfies `predicate`. */
export function waitForView(
  kiosk: Kiosk,
  predicate: (view: KioskView) => boolean,
  timeoutMs = 5000,
): Promise<KioskView> {
  return new Promise((resolveView, rejectView) => {
    let last: KioskView | undefined;
    const timer = setTimeout(() => {
      off();
      rejectView(new Error(`no matching view; last was ${JSON.stringify(last)}`));
    }, timeoutMs);
    const check = (view: KioskView) => {
      last = view;
      if (!predicate(view)) return;

      clearTimeout(timer);
      off();
      resolveView(view);
    };
    const off = kiosk.subscribe('view:changed', check);
    void kiosk.handle('view:get', {}).then(check);
  });
}
