/**
 * The fake HID bus moved to native/testing/ so the scanner drivers share it; this path stays for
 * the call button's tests and the core's call tests that import it from here.
 */
export {
  FakeHid,
  FakeHidDevice,
  FakeHidHandle,
  type FakeButtonLayout,
  type FakeHidInfo,
} from '../../testing/fake-hid.js';
