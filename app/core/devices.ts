/**
 * The kiosk's entry devices built from the configuration: the scanners and the ID card reader,
 * watched together with the relay and the call button in one registry. A device that is absent at
 * start is not fatal: its driver keeps looking, the registry shows it as disconnected and the
 * screen offers the other entry methods. A demo kiosk runs a simulator behind each real driver.
 */
import { KioskError } from '../common/errors.js';
import type { ScannerScan } from '../common/scanner-scan.js';
import type { WedgeWarningCode } from '../common/keyboard-wedge.js';
import type { DeviceAvailability } from '../contract/api.js';
import type { IdCardRead } from '../../native/idcard/id-record.js';
import type { IdCardReader } from '../../native/idcard/idcard-reader.js';
import { SamIdCardReader } from '../../native/idcard/sam-reader.js';
import { SamSimulator } from '../../native/idcard/sam-simulator.js';
import { DeviceRegistry, type DeviceKind, type WatchableDevice } from '../../native/registry.js';
import { HidPosScanner } from '../../native/scanner/hid-pos-scanner.js';
import type { Scanner } from '../../native/scanner/scanner.js';
import { SerialScanner } from '../../native/scanner/serial-scanner.js';
import { SerialScannerSimulator } from '../../native/scanner/serial-scanner-simulator.js';
import { startSimulatedDevice } from '../../native/simulated-device.js';
import { isDemo, type KioskConfig } from './config.js';
import { moduleLogger } from './log.js';
import type { CallButton, RelayDriver } from './ports.js';

const log = moduleLogger('devices');

type Cleanup = () => unknown;

/** What the kiosk does with what its entry devices read. */
export interface DeviceHandlers {
  onScan(scan: ScannerScan): void;
  onCard(read: IdCardRead): void;
}

/** The entry devices of a running kiosk and the registry that watches every device. */
export interface KioskDevices {
  readonly registry: DeviceRegistry;
  /** Simulators behind the demo's drivers, for tests and demos that play the device. */
  readonly simulators: { scanner?: SerialScannerSimulator; idCard?: SamSimulator };
  /** What the screen says of the entry methods that need a device. */
  entryMethods(): { scanner: DeviceAvailability; idCard: DeviceAvailability };
  /** Notes keyboard-wedge input the page could not trust, for the technician. */
  keyboardWarning(code: WedgeWarningCode): void;
}

/** The name the keyboard-wedge scanner has in the registry; the page is its only driver. */
const keyboardScannerName = 'scanner:keyboard';

/** The devices the kiosk opened before its entry devices, watched in the same registry. */
export interface OutputDevices {
  relay: RelayDriver;
  callButton: CallButton | null;
}

/**
 * Opens the configured scanners and ID card reader, and watches them with `outputs` in one
 * registry; the entry devices' closing is pushed onto `cleanups`.
 */
export async function openDevices(
  config: KioskConfig,
  outputs: OutputDevices,
  handlers: DeviceHandlers,
  cleanups: Cleanup[],
): Promise<KioskDevices> {
  const registry = new DeviceRegistry();
  cleanups.push(() => registry.close());
  const simulators: KioskDevices['simulators'] = {};

  registry.add('relay', 'relay', config.relay.port ?? 'simulator', outputs.relay);
  if (outputs.callButton) {
    const hid = config.callButton.hid;
    registry.add(
      'callButton',
      'callButton',
      hid ? usbAddress(hid) : 'supplied',
      outputs.callButton,
    );
  }

  for (const { name, address, scanner } of await ownScanners(config, cleanups, simulators)) {
    watch(registry, name, 'scanner', address, scanner);
    scanner.onScan((scan) => {
      registry.noteEvent(name, 'scan');
      handlers.onScan(scan);
    });
    scanner.onError((error) => registry.noteError(name, error));
  }

  const reader = await ownIdCardReader(config, cleanups, simulators);
  if (reader) {
    watch(registry, 'idCard', 'idCard', reader.address, reader.reader);
    reader.reader.onCard((read) => {
      registry.noteEvent('idCard', 'card');
      handlers.onCard(read);
    });
    reader.reader.onError((error) => registry.noteError('idCard', error));
  }

  if (config.scanner.keyboard.enabled) {
    registry.add(keyboardScannerName, 'scanner', 'kiosk window', alwaysThere);
  }

  return {
    registry,
    simulators,
    entryMethods: () => ({
      // The keyboard wedge is always "there": only scanners that can vanish tell the visitor.
      scanner: availability(registry, 'scanner', [keyboardScannerName]),
      idCard: availability(registry, 'idCard'),
    }),
    keyboardWarning: (code) => {
      log.warn({ code }, 'keyboard scanner: input not trusted');
      registry.noteError(keyboardScannerName, new KioskError('bad_payload', code));
    },
  };
}

/** Adds a driver to the registry and logs an absent device without failing the start. */
function watch(
  registry: DeviceRegistry,
  name: string,
  kind: DeviceKind,
  address: string,
  device: WatchableDevice & { open(): Promise<void> },
): void {
  registry.add(name, kind, address, device);
  device.open().catch((error: unknown) => {
    log.warn(
      { device: name, err: error },
      'start: device not connected yet; its driver keeps looking',
    );
  });
}

function availability(
  registry: DeviceRegistry,
  kind: DeviceKind,
  except: string[] = [],
): DeviceAvailability {
  const devices = registry
    .list()
    .filter((each) => each.kind === kind && !except.includes(each.name));
  if (devices.length === 0) return 'none';

  return devices.some((each) => each.state === 'connected') ? 'ready' : 'unavailable';
}

interface OwnedScanner {
  name: string;
  address: string;
  scanner: Scanner;
}

async function ownScanners(
  config: KioskConfig,
  cleanups: Cleanup[],
  simulators: KioskDevices['simulators'],
): Promise<OwnedScanner[]> {
  const { serial, hidPos } = config.scanner;
  const scanners: OwnedScanner[] = [];

  if (serial) {
    const scanner = new SerialScanner(serial);
    cleanups.push(() => scanner.close());
    scanners.push({ name: 'scanner:serial', address: serial.port, scanner });
  } else if (isDemo(config) && !hidPos) {
    // A demo plays a scanner only where none is configured: a real one must show when missing.
    const simulated = await simulatedScanner(cleanups, simulators);
    if (simulated) scanners.push(simulated);
  }

  if (hidPos) {
    const scanner = new HidPosScanner(hidPos);
    cleanups.push(() => scanner.close());
    scanners.push({ name: 'scanner:hid', address: usbAddress(hidPos), scanner });
  }

  return scanners;
}

async function simulatedScanner(
  cleanups: Cleanup[],
  simulators: KioskDevices['simulators'],
): Promise<OwnedScanner | undefined> {
  try {
    const device = await startSimulatedDevice({
      name: 'scanner',
      simulator: (path) => new SerialScannerSimulator(path),
      driver: (port) => new SerialScanner({ port }),
    });
    cleanups.push(() => device.stop());
    simulators.scanner = device.simulator;
    return { name: 'scanner:serial', address: 'simulator', scanner: device.driver };
  } catch (error) {
    log.error({ err: error }, 'start: simulated scanner unavailable (is socat installed?)');
    return undefined;
  }
}

async function ownIdCardReader(
  config: KioskConfig,
  cleanups: Cleanup[],
  simulators: KioskDevices['simulators'],
): Promise<{ address: string; reader: IdCardReader } | undefined> {
  const settings = config.idCard;
  if (settings) {
    const reader = new SamIdCardReader(settings);
    cleanups.push(() => reader.close());
    return { address: settings.port, reader };
  }

  if (!isDemo(config)) return undefined;

  try {
    const device = await startSimulatedDevice({
      name: 'idcard',
      simulator: (path) => new SamSimulator(path),
      driver: (port) => new SamIdCardReader({ port }),
    });
    cleanups.push(() => device.stop());
    simulators.idCard = device.simulator;
    return { address: 'simulator', reader: device.driver };
  } catch (error) {
    log.error({ err: error }, 'start: simulated ID card reader unavailable (is socat installed?)');
    return undefined;
  }
}

function usbAddress(ids: { vendorId: number; productId: number }): string {
  const hex = (value: number) => value.toString(16).padStart(4, '0');
  return `${hex(ids.vendorId)}:${hex(ids.productId)}`;
}

/** The keyboard wedge's stand-in driver: the window is always there to type into. */
const alwaysThere: WatchableDevice = {
  state: 'connected',
  onStateChange: () => () => undefined,
};
