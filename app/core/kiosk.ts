/**
 * The kiosk composed: store, relay, gate, pass verification, the visit flow and the call to the
 * guards behind the one contract (KioskService). Electron's main process and the browser host
 * both bind their transport to what createKiosk returns; neither decides anything itself.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createActor } from 'xstate';
import { KioskError, assertNever } from '../common/errors.js';
import {
  commands,
  isCommandName,
  maxPhotoBytes,
  type CallSignal,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type EventName,
  type EventPayload,
  type KioskService,
  type KioskView,
  type Photo,
  type RefusalReason,
  type ScanReport,
} from '../contract/api.js';
import { HidCallButton } from '../../native/button/hid-button.js';
import { LcusRelay } from '../../native/relay/lcus.js';
import { ModbusRelay } from '../../native/relay/modbus.js';
import { startSimulatedRelay } from '../../native/relay/demo.js';
import { CallLink } from './call.js';
import { callFallbackText, isDemo, type KioskConfig } from './config.js';
import {
  createFlowMachine,
  flowView,
  type FlowActor,
  type FlowSnapshot,
  type FlowVerdict,
} from './flow.js';
import { Gate, type GateResult } from './gate.js';
import { moduleLogger } from './log.js';
import { generateSiteKeys, verifyPass, type PassClaims } from './passes.js';
import type {
  AuditEntry,
  CallButton,
  DeviceState,
  KioskStore,
  RelayDriver,
  VisitRecord,
} from './ports.js';
import { openStore } from './store.js';
import { openDevices, type KioskDevices } from './devices.js';
import { toScanReport, type ScannerScan } from '../common/scanner-scan.js';
import type { IdCardRead } from '../../native/idcard/id-record.js';

const log = moduleLogger('kiosk');

/** A running kiosk: the contract's service plus what its host needs to manage it. */
export interface Kiosk extends KioskService {
  readonly config: KioskConfig;
  readonly store: KioskStore;
  /** Stops the flow and closes what createKiosk opened (the relay is driven off on close). */
  close(): Promise<void>;
}

/** Parts a caller (a test, a host) may supply instead of the ones built from the configuration. */
export interface KioskOptions {
  /** Folder a relative dataDir is taken from; the config file's folder, else the working folder. */
  configDir?: string;
  /** A relay the caller owns and closes; the kiosk still opens it if it is not connected. */
  relay?: RelayDriver;
  /** A store the caller owns and closes. */
  store?: KioskStore;
  /** A call button the caller owns and closes, instead of the one callButton.hid describes. */
  callButton?: CallButton;
  now?: () => number;
}

type Cleanup = () => unknown;

/** Builds a kiosk from a validated configuration. */
export async function createKiosk(config: KioskConfig, options: KioskOptions = {}): Promise<Kiosk> {
  const now = options.now ?? Date.now;
  const dataDir = resolve(options.configDir ?? process.cwd(), config.dataDir);
  const cleanups: Cleanup[] = [];

  try {
    const store = options.store ?? ownStore(config, dataDir, cleanups);
    const publicKeys = await passKeys(config, dataDir);
    const relay = options.relay ?? (await ownRelay(config, cleanups));
    await driveOff(relay);

    const gate = new Gate({ relay, pulseMs: config.relay.pulseMs, audit: store, now });
    const callButton = options.callButton ?? ownCallButton(config, cleanups);
    // Devices may read before the core exists; what they read then is dropped, as nothing shows.
    const late: { core?: KioskCore } = {};
    const devices = await openDevices(
      config,
      { relay, callButton },
      {
        onScan: (scan) => late.core?.scanned(scan),
        onCard: (read) => late.core?.cardRead(read),
      },
      cleanups,
    );
    log.info(
      { site: config.site, gate: config.gate, demo: isDemo(config), dataDir },
      'start: kiosk ready',
    );
    late.core = new KioskCore({
      config,
      store,
      gate,
      publicKeys,
      now,
      cleanups,
      callButton,
      devices,
    });
    return late.core;
  } catch (error) {
    await runCleanups(cleanups);
    throw error;
  }
}

function ownStore(config: KioskConfig, dataDir: string, cleanups: Cleanup[]): KioskStore {
  const key = storeKey(config, dataDir);
  const store = openStore({ file: join(dataDir, 'kiosk.db'), key });
  cleanups.push(() => store.close());
  return store;
}

/** The configured key, or for a demo kiosk one made once and kept beside the store. */
function storeKey(config: KioskConfig, dataDir: string): string {
  if (config.storeKey) return config.storeKey;

  if (!isDemo(config)) {
    throw new KioskError(
      'config_invalid',
      'storeKey: a kiosk on real devices must set storeKey (16 characters or more) to encrypt its records',
    );
  }

  const file = join(dataDir, 'store.key');
  const key = readOrCreateSecret(file, () => randomBytes(32).toString('base64url'));
  log.info({ file }, 'start: demo store key in use');
  return key;
}

/** Reads a secret file, creating it (mode 0600) with `make()` when it does not exist yet. */
function readOrCreateSecret(file: string, make: () => string): string {
  mkdirSync(resolve(file, '..'), { recursive: true, mode: 0o700 });

  try {
    writeFileSync(file, make(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }

  // A copy restored from a backup may have lost its mode: secrets stay owner-only.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** The configured pass keys, or for a demo kiosk without any a site key kept in dataDir. */
async function passKeys(config: KioskConfig, dataDir: string): Promise<object[]> {
  if (config.passes.publicKeys.length > 0) return config.passes.publicKeys;

  if (!isDemo(config)) {
    log.warn('start: passes.publicKeys is empty, so every pass will be refused as forged');
    return [];
  }

  const privateFile = join(dataDir, 'site-private.jwk.json');
  const publicFile = join(dataDir, 'site-public.jwk.json');
  // Both halves are made together: a lone half left by a crash must not pair with a new other half.
  if (!existsSync(privateFile) || !existsSync(publicFile)) {
    const keys = await generateSiteKeys();
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(privateFile, JSON.stringify(keys.privateJwk, null, 2), { mode: 0o600 });
    chmodSync(privateFile, 0o600);
    writeFileSync(publicFile, JSON.stringify(keys.publicJwk, null, 2));
  }

  const publicJwk = readFileSync(publicFile, 'utf8');
  log.info(
    { privateKeyFile: privateFile },
    'start: demo pass key in use; issue passes with `kiosk pass issue --key <privateKeyFile>`',
  );
  return [JSON.parse(publicJwk) as object];
}

async function ownRelay(config: KioskConfig, cleanups: Cleanup[]): Promise<RelayDriver> {
  if (config.relay.kind !== 'simulator') {
    const relay = boardRelay(config.relay);
    cleanups.push(() => relay.close());
    return relay;
  }

  // The demo's socat pair restarts socat by itself if it dies, and driver and simulated board
  // reconnect as after a replug; only a kiosk without socat installed has no gate at all.
  const { channel, invert, baudRate } = config.relay;
  try {
    const simulated = await startSimulatedRelay({ channel, invert, baudRate });
    cleanups.push(() => simulated.stop());
    return simulated.relay;
  } catch (error) {
    log.error(
      { err: error },
      'start: simulated relay unavailable (is socat installed?); the gate stays unavailable',
    );
    return new AbsentRelay();
  }
}

/** The driver for a real board, as configured; opened later by driveOff. */
function boardRelay(relay: KioskConfig['relay']): RelayDriver {
  const { kind, port, baudRate, channel, invert, boardChannels } = relay;
  if (!port)
    throw new KioskError('config_invalid', 'relay.port: a real relay needs its serial port');

  const link = { port, baudRate, channel, invert, boardChannels };
  switch (kind) {
    case 'lcus':
      return new LcusRelay(link);
    case 'modbus':
      return new ModbusRelay({ ...link, ...relay.modbus });
    case 'simulator':
      throw new KioskError('internal', 'the simulated relay is not a board');
    default:
      return assertNever(kind, 'relay kind');
  }
}

/** The USB HID call button of callButton.hid, opening in the background; null when none. */
function ownCallButton(config: KioskConfig, cleanups: Cleanup[]): CallButton | null {
  const hid = config.callButton.hid;
  if (!hid) return null;

  const button = new HidCallButton({ ...hid, debounceMs: config.callButton.debounceMs });
  cleanups.push(() => button.close());
  // An absent button is not fatal: the driver keeps looking, and the screen's button works.
  button.open().catch((error: unknown) => {
    log.warn({ err: error }, 'start: call button not connected yet; the driver keeps looking');
  });
  return button;
}

/** What the page needs to hear a keyboard-wedge scanner, or null when none may type. */
function keyboardScannerView(config: KioskConfig): KioskView['keyboardScanner'] {
  const { enabled, burstGapMs, humanGapMs, minLength } = config.scanner.keyboard;
  return enabled ? { burstGapMs, humanGapMs, minLength } : null;
}

/** Opening a relay drives every channel off, so the barrier starts closed whatever came before. */
async function driveOff(relay: RelayDriver): Promise<void> {
  if (relay.state === 'connected') return;

  try {
    await relay.open();
  } catch (error) {
    log.error({ err: error }, 'start: relay did not open; the gate is unavailable until it does');
  }
}

async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      log.error({ err: error }, 'close: cleanup failed');
    }
  }
}

/** Stands in for a relay that could not be started, so the kiosk runs and says the gate is down. */
class AbsentRelay implements RelayDriver {
  readonly state: DeviceState = 'disconnected';

  open(): Promise<void> {
    return Promise.resolve();
  }

  pulse(): Promise<void> {
    return Promise.reject(new KioskError('disconnected', 'no relay is connected'));
  }

  onStateChange(): () => void {
    return () => undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

type Request = { [C in CommandName]: { command: C; input: CommandInput<C> } }[CommandName];

interface KioskParts {
  config: KioskConfig;
  store: KioskStore;
  gate: Gate;
  publicKeys: object[];
  now: () => number;
  cleanups: Cleanup[];
  callButton: CallButton | null;
  devices: KioskDevices;
}

class KioskCore implements Kiosk {
  readonly config: KioskConfig;
  readonly store: KioskStore;
  private readonly gate: Gate;
  private readonly publicKeys: object[];
  private readonly now: () => number;
  private readonly cleanups: Cleanup[];
  private readonly detach: () => void;
  private readonly actor: FlowActor;
  private readonly calls: CallLink;
  private readonly devices: KioskDevices;
  private readonly viewListeners = new Set<(view: KioskView) => void>();
  private lastViewJson = '';
  private lastScreen = '';
  private closed = false;

  constructor(parts: KioskParts) {
    this.config = parts.config;
    this.store = parts.store;
    this.gate = parts.gate;
    this.publicKeys = parts.publicKeys;
    this.now = parts.now;
    this.cleanups = parts.cleanups;
    this.devices = parts.devices;

    this.calls = new CallLink({
      config: this.config,
      gate: this.gate,
      audit: this.store,
      now: this.now,
      flow: {
        send: (event) => this.actor.send(event),
        snapshot: () => this.actor.getSnapshot(),
      },
      onChange: () => this.publishView(),
    });
    const machine = createFlowMachine({
      verifyScan: (scan) => this.verifyScan(scan),
      attachPhoto: (visitId, jpeg) => this.attachPhoto(visitId, jpeg),
      placeCall: (scan) => this.calls.placeCall(scan),
      releaseCall: (callId, answered) => this.calls.releaseCall(callId, answered),
    });
    const input = {
      defaultLocale: this.config.defaultLocale,
      timeouts: this.config.timeouts,
      hangUpAfterOpenSeconds: this.config.intercom?.hangUpAfterOpenSeconds ?? 5,
      now: this.now,
    };
    this.actor = createActor(machine, { input });

    const subscription = this.actor.subscribe((snapshot) => this.onFlowChange(snapshot));
    const unwatchGate = this.gate.onAvailabilityChange((available) =>
      this.onGateAvailability(available),
    );
    const unwatchButton = parts.callButton?.onPress(() => this.calls.press('hid'));
    const unwatchDevices = this.devices.registry.onChange(() => this.publishView());
    this.detach = () => {
      subscription.unsubscribe();
      unwatchGate();
      unwatchButton?.();
      unwatchDevices();
    };
    this.actor.start();
    this.calls.start();
  }

  /** A hardware scanner read a code: the flow checks it like one the camera saw. */
  scanned(scan: ScannerScan): void {
    if (this.closed) return;

    this.actor.send({ type: 'SCAN', scan: toScanReport(scan) });
  }

  /**
   * A card was placed on the ID card reader. Nothing decides on it yet: walk-in registration
   * (issue 5) is what will use the record; until then only its kind and validity are logged.
   */
  cardRead(read: IdCardRead): void {
    log.info({ kind: read.record.kind, validity: read.record.validity }, 'id card: read');
  }

  handle<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    return Promise.resolve(this.run(command, input) as CommandOutput<C>);
  }

  subscribe<E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ): () => void {
    if (event === 'call:signal')
      return this.calls.onSignal(listener as (signal: CallSignal) => void);
    if (event !== 'view:changed')
      throw new KioskError('bad_payload', `unknown event ${String(event)}`);

    const viewListener = listener as (view: KioskView) => void;
    this.viewListeners.add(viewListener);
    return () => this.viewListeners.delete(viewListener);
  }

  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.detach();
    this.actor.stop();
    this.viewListeners.clear();
    await this.calls.close();
    // The cleanups run in reverse order of creation: the relay closes (driven off) before the store.
    await runCleanups(this.cleanups);
    log.info('close: kiosk closed');
  }

  private run(command: CommandName, input: unknown): KioskView | undefined {
    if (!isCommandName(command))
      throw new KioskError('bad_payload', `unknown command ${String(command)}`);
    if (command === 'view:get') return this.view();

    // Transports check payloads already; checking again keeps a careless caller from the flow.
    const checked = commands[command].input.safeParse(input);
    if (!checked.success) {
      const error = new KioskError(
        'bad_payload',
        `${command}: ${checked.error.issues[0]?.message ?? 'invalid input'}`,
      );
      log.warn({ err: error, command }, 'handle: refused a bad payload');
      return undefined;
    }

    if (this.closed) {
      log.warn({ command }, 'handle: kiosk is closed, command ignored');
      return undefined;
    }

    this.apply({ command, input: checked.data } as Request);
    return undefined;
  }

  private apply(request: Request): void {
    switch (request.command) {
      case 'view:get':
        return;
      case 'visitor:touch':
        return this.actor.send({ type: 'TOUCH' });
      case 'visitor:startScan':
        return this.actor.send({ type: 'START_SCAN' });
      case 'visitor:showPrivacy':
        return this.actor.send({ type: 'SHOW_PRIVACY' });
      case 'visitor:cancel':
        return this.actor.send({ type: 'CANCEL' });
      case 'visitor:setLocale':
        return this.actor.send({ type: 'SET_LOCALE', locale: request.input.locale });
      case 'scan:report':
        return this.actor.send({ type: 'SCAN', scan: request.input });
      case 'scanner:warning':
        return this.devices.keyboardWarning(request.input.code);
      case 'photo:submit':
        return this.submitPhoto(request.input);
      case 'visitor:call':
        return this.calls.press(request.input.source);
      case 'visitor:hangUp':
        return this.actor.send({ type: 'HANG_UP' });
      case 'call:signal':
        return this.calls.signal(request.input);
      case 'call:media':
        return this.calls.media(request.input);
      default:
        return assertNever(request, 'command');
    }
  }

  private submitPhoto(photo: Photo): void {
    const jpeg = Buffer.from(photo.jpegBase64, 'base64');

    if (jpeg.length > maxPhotoBytes || !isJpeg(jpeg)) {
      const error = new KioskError(
        'bad_payload',
        `photo:submit: not a JPEG of at most ${maxPhotoBytes} bytes`,
      );
      log.warn({ err: error, visitId: photo.visitId, bytes: jpeg.length }, 'photo: refused');
      return;
    }

    this.actor.send({ type: 'PHOTO', visitId: photo.visitId, jpeg: new Uint8Array(jpeg) });
  }

  private attachPhoto(visitId: string, jpeg: Uint8Array): void {
    try {
      this.store.attachPhoto(visitId, jpeg);
      log.info({ visitId, bytes: jpeg.length }, 'photo: attached');
    } catch (error) {
      log.error({ err: error, visitId }, 'photo: could not be stored');
    }
  }

  /** Checks a scan from its raw text; a valid pass is committed and opens the gate. */
  private async verifyScan(scan: ScanReport): Promise<FlowVerdict> {
    if (!textMatchesBytes(scan)) {
      return this.refuse(null, 'not_a_pass', 'scanned text does not match its raw bytes');
    }

    try {
      const verdict = await verifyPass(scan.text, {
        publicKeys: this.publicKeys,
        site: this.config.site,
        gate: this.config.gate,
        now: this.now(),
        clockSkewSeconds: this.config.passes.clockSkewSeconds,
        usesOf: (passId) => this.store.passUses(passId),
      });
      if (!verdict.ok) return this.refuse(verdict.pass ?? null, verdict.reason, verdict.detail);

      return await this.admit(verdict.pass, verdict.entriesLeft);
    } catch (error) {
      log.error({ err: error }, 'verify: failed unexpectedly');
      return this.refuse(null, 'gate_unavailable', 'internal error');
    }
  }

  /**
   * Opens the gate for a valid pass. The visitor sees `accepted` as soon as the visit is committed,
   * which the gate does just before it drives the relay, not after the pulse has ended.
   */
  private async admit(pass: PassClaims, entriesLeftBefore: number): Promise<FlowVerdict> {
    const visit = this.visitRecord(pass, 'admitted', null);
    const audit: AuditEntry = {
      at: visit.at,
      action: 'gate.open',
      actor: `pass:${pass.passId}`,
      detail: { visitId: visit.id, gate: this.config.gate, reason: 'pass' },
    };

    let markCommitted: (at: number) => void = () => undefined;
    const committed = new Promise<number>((resolveCommit) => (markCommitted = resolveCommit));
    let commitError: unknown = null;

    const commit = () => {
      try {
        const admitted = this.store.admitWithPass(visit, pass.passId, pass.entries, audit);
        if (admitted) markCommitted(this.now());
        return admitted;
      } catch (error) {
        commitError = error;
        throw error;
      }
    };

    const opening = this.gate.open({ actor: audit.actor, reason: 'pass', commit });
    const first = await Promise.race([
      committed.then((at) => ({ at })),
      opening.then((result) => ({ result })),
    ]);

    if ('result' in first) return this.refuseUnopened(pass, first.result, commitError);

    this.watchPulse(opening, visit.id);
    log.info({ visitId: visit.id, passId: pass.passId }, 'verify: admitted, gate opening');
    return {
      accepted: true,
      visit: {
        visitId: visit.id,
        maskedName: pass.maskedName,
        hostUnit: pass.hostUnit,
        gateOpenUntil: first.at + this.config.relay.pulseMs,
        // The verifier counts entries left before this one; the visitor wants what is left after it.
        entriesLeft: Math.max(0, entriesLeftBefore - 1),
      },
    };
  }

  /** The gate answered before anything was committed: nothing opened, the refusal is recorded. */
  private refuseUnopened(pass: PassClaims, result: GateResult, commitError: unknown): FlowVerdict {
    if (result.opened) return this.refuse(pass, 'gate_unavailable', 'gate opened without a commit');

    const usedUp = result.reason === 'not_committed' && commitError === null;
    if (commitError !== null)
      log.error({ err: commitError }, 'verify: visit could not be committed');

    return this.refuse(pass, usedUp ? 'used_up' : 'gate_unavailable', `gate: ${result.reason}`);
  }

  /**
   * A pulse that fails after the commit may have left the barrier shut, or opened it (the on frame
   * may have gone out before the port was lost): the screen must not say "go through" either way.
   */
  private watchPulse(opening: Promise<GateResult>, visitId: string): void {
    const failed = (detail: unknown) => {
      log.error({ visitId, detail }, 'gate: pulse failed after the visit was committed');
      if (!this.closed) this.actor.send({ type: 'GATE_FAILED', visitId });
    };

    opening.then((result) => {
      if (!result.opened) failed(result.reason);
    }, failed);
  }

  private refuse(pass: PassClaims | null, reason: RefusalReason, detail: string): FlowVerdict {
    const visit = this.visitRecord(pass, 'refused', reason);

    try {
      this.store.saveVisit(visit);
      this.store.appendAudit({
        at: visit.at,
        action: 'pass.refused',
        actor: pass ? `pass:${pass.passId}` : 'kiosk',
        detail: { visitId: visit.id, reason, detail },
      });
    } catch (error) {
      log.error({ err: error, visitId: visit.id }, 'verify: refused visit could not be recorded');
    }

    log.info({ visitId: visit.id, passId: visit.passId, reason }, 'verify: refused');
    const holder = pass && { maskedName: pass.maskedName, hostUnit: pass.hostUnit };
    return { accepted: false, reason, holder };
  }

  private visitRecord(
    pass: PassClaims | null,
    outcome: 'admitted' | 'refused',
    refusal: RefusalReason | null,
  ): VisitRecord {
    return {
      id: randomUUID(),
      at: this.now(),
      gate: this.config.gate,
      method: 'pass',
      outcome,
      passId: pass?.passId ?? null,
      maskedName: pass?.maskedName ?? null,
      hostUnit: pass?.hostUnit ?? null,
      refusal,
    };
  }

  private view(): KioskView {
    const { config } = this;
    const flow = flowView(this.actor.getSnapshot());

    return {
      ...flow,
      demo: isDemo(config),
      gateName: config.gateName,
      siteName: config.siteName,
      privacy: {
        controller: config.privacy.controller,
        purpose: config.privacy.purpose,
        retentionDays: config.privacy.retentionDays,
      },
      gateAvailable: this.gate.available,
      callAvailable: this.calls.available,
      callFallback: callFallbackText(config.intercom?.fallback, flow.locale),
      callKey: config.callButton.key,
      entryMethods: this.devices.entryMethods(),
      keyboardScanner: keyboardScannerView(config),
    };
  }

  private onFlowChange(snapshot: FlowSnapshot): void {
    const screen = String(snapshot.value);
    if (screen !== this.lastScreen)
      log.info({ from: this.lastScreen || null, to: screen }, 'flow: screen changed');
    this.lastScreen = screen;

    this.calls.onFlowChange(snapshot);
    this.publishView();
  }

  private onGateAvailability(available: boolean): void {
    log.info({ available }, 'gate: availability changed');
    this.publishView();
  }

  /** Pushes the view to every listener when it differs from the last one pushed. */
  private publishView(): void {
    const view = this.view();
    const json = JSON.stringify(view);
    if (json === this.lastViewJson) return;

    this.lastViewJson = json;
    for (const listener of this.viewListeners) {
      try {
        listener(view);
      } catch (error) {
        log.error({ err: error }, 'view: a listener failed');
      }
    }
  }
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * A pass is plain ASCII, so when the page sends the raw bytes of a code they must read as exactly
 * the text it reports. The page is untrusted: a text that its own bytes do not back is refused
 * rather than verified. Scanners that type their codes send no bytes, and the text stands alone.
 */
function textMatchesBytes(scan: ScanReport): boolean {
  if (scan.bytesHex === '') return true;

  try {
    const bytes = Buffer.from(scan.bytesHex, 'hex');
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes) === scan.text;
  } catch {
    return false;
  }
}
