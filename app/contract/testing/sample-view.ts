import type { KioskView } from '../api.js';

/** A valid idle view for tests of the transports, which carry views without reading them. */
export function sampleView(overrides: Partial<KioskView> = {}): KioskView {
  return {
    screen: 'idle',
    locale: 'zh-CN',
    demo: true,
    gateName: 'Main gate',
    siteName: 'Demo compound',
    privacy: { controller: 'Property office', purpose: 'Access control', retentionDays: 30 },
    accepted: null,
    refusal: null,
    gateAvailable: true,
    entryMethods: { scanner: 'none', idCard: 'none' },
    keyboardScanner: null,
    screenTimeoutAt: null,
    call: null,
    callAvailable: true,
    callFallback: 'Call the property office: 010-0000 0000',
    callKey: null,
    ...overrides,
  };
}
