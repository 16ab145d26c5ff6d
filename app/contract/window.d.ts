/**
 * `window.kiosk`, as the Electron preload and the browser host's bridge both provide it. Optional,
 * because the page must say plainly when it was opened without either.
 */
import type { KioskApi } from './api.js';

declare global {
  interface Window {
    kiosk?: KioskApi;
  }
}
