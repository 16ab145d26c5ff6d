/**
 * Driver for second-generation ID card readers speaking the SAM protocol over serial. It polls
 * find → select → read, reports each placement of a card once, and treats an unplug as an
 * ordinary event: noticed by port events, failed writes, timeouts and the device node, and
 * followed by reopening the port when it returns.
 */
import { SerialPort } from 'serialport';
import { KioskError, hasCode } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';
import { deviceChanged, deviceIdentity } from '../relay/device-node.js';
import type { CardClock, IdCardRead } from './id-record.js';
import type { IdCardReader } from './idcard-reader.js';
import { parseReadResponse } from './read-response.js';
import {
  encodeSamCommand,
  samCommands,
  samDefaultMaxLength,
  samPreamble,
  samResponseParser,
  samStatus,
  type SamCommand,
  type SamParseResult,
  type SamResponse,
} from './sam-protocol.js';
import { statusError } from './sam-status.js';
import { textBlockLength } from './text-block.js';

const log = moduleLogger('idcard.sam');

// A 10-byte write that has not finished by then will not: the port is as good as gone.
const writeTimeoutMs = 1_000;

/** Where the reader is and how eagerly to poll it. */
export interface SamReaderOptions {
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. */
  port: string;
  /** 115200 by default; some readers use 9600 or 38400. */
  baudRate?: number;
  /** Pause between two find-card polls. Default 300 ms. */
  pollIntervalMs?: number;
  /** How long to wait for the answer to status, find and select. Default 500 ms. */
  responseTimeoutMs?: number;
  /** How long to wait for the text and photo: the SAM takes about a second. Default 3000 ms. */
  readTimeoutMs?: number;
  /** Read with 30 10 (text, photo and fingerprint) instead of 30 01. */
  withFingerprint?: boolean;
  /** How often to look for a lost port, and to check that an open one is still there. */
  reconnectIntervalMs?: number;
  /** Frames with a larger LEN are refused as `oversized`. */
  maxFrameLength?: number;
  /** The clock validity dates are judged against. */
  clock?: CardClock;
}

interface Pending {
  command: SamCommand;
  resolve(response: SamResponse): void;
  reject(error: KioskError): void;
}

/** A SAM ID card reader on a serial port, as an IdCardReader. */
export class SamIdCardReader implements IdCardReader {
  private port: SerialPort | undefined;
  private portIdentity: string | undefined;
  private closed = true;
  private connecting = false;
  // True once the card now on the reader was handled (read or refused): it is not read again
  // until a find fails, which is how a lifted card shows.
  private placementHandled = false;
  // True after a select whose read failed for a passing reason. Many readers refuse a second
  // find until the card is lifted, so the retry goes straight to select.
  private retrySelect = false;
  private pending: Pending | undefined;
  private cycle: Promise<void> = Promise.resolve();
  private readonly parser;
  private readonly options: Required<Omit<SamReaderOptions, 'clock'>> & { clock: CardClock };
  private readonly status: DeviceStateHolder;
  private readonly watchdog: RetryTimer;
  private readonly poller: RetryTimer;
  private readonly cardListeners = new Set<(read: IdCardRead) => void>();
  private readonly errorListeners = new Set<(error: KioskError) => void>();

  constructor(options: SamReaderOptions) {
    this.options = validate(options);
    this.parser = samResponseParser({ maxLength: this.options.maxFrameLength });
    this.status = new DeviceStateHolder(log, { port: this.options.port });
    this.watchdog = new RetryTimer(this.options.reconnectIntervalMs, () => this.watch(), log);
    this.poller = new RetryTimer(this.options.pollIntervalMs, () => this.poll(), log);
  }

  /** `connected` once the port is open and the SAM has answered a status query. */
  get state(): DeviceState {
    return this.status.state;
  }

  /** Opens the port; when the reader is absent, rejects but keeps looking until close(). */
  async open(): Promise<void> {
    if (!this.closed) return;

    this.closed = false;
    this.watchdog.start();
    this.poller.start();
    this.status.set('connecting');

    const error = await this.tryConnect();
    if (error) throw error;
  }

  /** Stops polling and closes the port; a pending answer is given up, never thrown. */
  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.watchdog.stop();
    this.poller.stop();
    this.pending?.reject(new KioskError('disconnected', 'ID card reader closed'));
    await this.cycle;

    const port = this.port;
    this.forget();
    if (port) await closePort(port);
    this.status.set('disconnected');
  }

  /** Calls `listener` once per placement of a card read; returns the unsubscribe. */
  onCard(listener: (read: IdCardRead) => void): () => void {
    return subscribe(this.cardListeners, listener);
  }

  /** Calls `listener` with each failed read; a lost port is a state change instead. */
  onError(listener: (error: KioskError) => void): () => void {
    return subscribe(this.errorListeners, listener);
  }

  /** Subscribes to state changes; returns the unsubscribe. */
  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { state: number; card: number; error: number; port: number } {
    const port = this.port;
    const portListeners = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return {
      state: this.status.listenerCount,
      card: this.cardListeners.size,
      error: this.errorListeners.size,
      port: portListeners,
    };
  }

  private async watch(): Promise<void> {
    if (this.closed || this.connecting) return;

    if (this.port) await this.checkPresence(this.port);
    else await this.tryConnect();
  }

  /** One attempt to open the port and hear the SAM; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    this.connecting = true;
    try {
      await this.connect();
      return undefined;
    } catch (cause) {
      return this.connectFailed(asConnectError(cause, this.options.port));
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<void> {
    const port = await openPort(this.options);
    if (this.closed) {
      await closePort(port);
      throw new KioskError('disconnected', 'ID card reader closed while its port was opening');
    }

    this.attach(port);
    this.status.set('connecting');
    this.portIdentity = await deviceIdentity(this.options.port);
    const answer = await this.request(samCommands.samStatus, this.options.responseTimeoutMs);
    if (answer.status !== samStatus.success) throw statusError(answer.status, 'SAM status');

    // A reader that was away may hold another card now: nothing from before is carried over.
    this.placementHandled = false;
    this.retrySelect = false;
    this.status.set('connected');
  }

  /** A port that opened but whose SAM did not answer is closed again and reported as `error`. */
  private connectFailed(error: KioskError): KioskError {
    const port = this.port;
    this.forget();
    if (port) void closePort(port);
    if (this.closed) return error;

    const absent = hasCode(error, 'disconnected');
    this.status.set(absent ? 'disconnected' : 'error', error);
    return error;
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.parser.reset();
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', (error?: Error) => this.lost(port, error ?? new Error('port closed')));
  }

  private async poll(): Promise<void> {
    if (this.closed || !this.port || this.state !== 'connected') return;

    this.cycle = this.pollOnce().catch((error: unknown) => this.cycleFailed(error));
    await this.cycle;
  }

  /** find → select → read, stopping early when there is no card or it was handled already. */
  private async pollOnce(): Promise<void> {
    const found = await this.request(samCommands.findCard, this.options.responseTimeoutMs);
    const retrying = found.status !== samStatus.cardFound && this.retrySelect;
    if (found.status !== samStatus.cardFound && !retrying) return this.noCard(found.status);
    if (this.placementHandled && !retrying) return;

    const selected = await this.request(samCommands.selectCard, this.options.responseTimeoutMs);
    if (selected.status !== samStatus.success) {
      // Failing a select while retrying is how a refusing reader shows the card is gone.
      if (retrying) return this.noCard(samStatus.noCard);
      throw statusError(selected.status, 'select');
    }

    this.retrySelect = true;
    await this.read();
  }

  private async read(): Promise<void> {
    const command = this.options.withFingerprint
      ? samCommands.readTextPhotoFingerprint
      : samCommands.readTextPhoto;
    const answer = await this.request(command, this.options.readTimeoutMs);
    const read = parseReadResponse(answer, this.options.clock);
    this.placementHandled = true;
    this.retrySelect = false;
    log.info({ port: this.options.port, kind: read.record.kind }, 'read: card read');
    emit(this.cardListeners, read);
  }

  private noCard(status: number): void {
    if (this.placementHandled) log.debug({ port: this.options.port }, 'poll: card lifted');
    this.placementHandled = false;
    this.retrySelect = false;
    if (status !== samStatus.noCard) this.report(statusError(status, 'find'));
  }

  private cycleFailed(cause: unknown): void {
    const error =
      cause instanceof KioskError
        ? cause
        : new KioskError('internal', `ID card poll failed: ${String(cause)}`, { cause });
    // A lost port is reported once, as the state change.
    if (this.closed || hasCode(error, 'disconnected')) return;

    // The card's own content will not change by reading it again: once per placement is enough.
    if (hasCode(error, 'unknown_card_type') || hasCode(error, 'card_invalid')) {
      this.placementHandled = true;
      this.retrySelect = false;
    }

    this.report(error);
    // Silence is also how an unplugged port can show: look at the device node now.
    if (hasCode(error, 'timeout') && this.port) void this.checkPresence(this.port);
  }

  private report(error: KioskError): void {
    log.warn({ port: this.options.port, code: error.code, reason: error.message }, 'poll: failed');
    emit(this.errorListeners, error);
  }

  /** Sends `command` and resolves with its answer; rejects `timeout`, `disconnected` or a parse error. */
  private request(command: SamCommand, timeoutMs: number): Promise<SamResponse> {
    const port = this.port;
    if (!port || this.closed) return Promise.reject(this.notConnected());

    const answer = new Promise<SamResponse>((resolve, reject) => {
      const settle = (finish: () => void): void => {
        clearTimeout(timer);
        if (this.pending === pending) this.pending = undefined;
        finish();
      };
      const pending: Pending = {
        command,
        resolve: (response) => settle(() => resolve(response)),
        reject: (error) => settle(() => reject(error)),
      };
      const timer = setTimeout(() => {
        // Whatever half answer arrived would otherwise prefix the next one.
        this.parser.reset();
        pending.reject(timeoutError(command, timeoutMs));
      }, timeoutMs);
      this.pending = pending;
    });

    void this.send(port, encodeSamCommand(command)).catch(() => undefined);
    return answer;
  }

  private receive(chunk: Buffer): void {
    for (const result of this.parser.push(chunk)) this.deliver(result);
  }

  private deliver(result: SamParseResult<SamResponse>): void {
    const pending = this.pending;
    if (result.kind === 'frame') {
      if (pending && answers(pending.command, result.frame)) return pending.resolve(result.frame);

      // A late answer to a request that timed out: it belongs to no one now.
      log.debug({ status: result.frame.status }, 'receive: stale answer dropped');
      return;
    }

    // Bytes between frames are line noise; a broken frame is the answer lost.
    const brokenFrame = startsWithPreamble(result.bytes);
    log.debug({ code: result.error.code, bytes: result.bytes.length }, 'receive: bytes rejected');
    if (pending && brokenFrame) pending.reject(result.error);
  }

  /** Writes and waits for the bytes to leave; any failure means the port is gone. */
  private async send(port: SerialPort, bytes: Uint8Array): Promise<void> {
    try {
      if (!port.isOpen) throw new Error('port is not open');
      await withTimeout(writeAndDrain(port, bytes), writeTimeoutMs);
    } catch (cause) {
      this.lost(port, cause instanceof Error ? cause : new Error(String(cause)));
      throw new KioskError('disconnected', `ID card port ${this.options.port} failed a write`, {
        cause,
      });
    }
  }

  /** serialport does not always notice an unplug; a vanished or replaced device node is proof. */
  private async checkPresence(port: SerialPort): Promise<void> {
    const now = await deviceIdentity(this.options.port);
    if (port === this.port && deviceChanged(this.portIdentity, now)) {
      this.lost(
        port,
        new Error(now === 'missing' ? 'device node vanished' : 'device node replaced'),
      );
    }
  }

  private lost(port: SerialPort, cause: Error): void {
    if (port !== this.port) return;

    const error = new KioskError(
      'disconnected',
      `ID card port ${this.options.port} lost: ${cause.message}`,
      { cause },
    );
    this.forget();
    this.pending?.reject(error);
    void closePort(port);
    if (!this.closed) this.status.set('disconnected', error);
  }

  private forget(): void {
    const port = this.port;
    this.port = undefined;
    this.portIdentity = undefined;
    this.parser.reset();
    port?.removeAllListeners('data');
  }

  private notConnected(): KioskError {
    return new KioskError(
      'disconnected',
      `ID card reader on ${this.options.port} is ${this.state}`,
    );
  }
}

/**
 * Whether `response` can be the answer to `command`. Answers carry no command code, so a late
 * answer to a request that timed out would otherwise pass for the next one's: a find answer for
 * a select, or a select's for a read.
 */
function answers(command: SamCommand, response: SamResponse): boolean {
  const cardStatus =
    response.status === samStatus.cardFound || response.status === samStatus.noCard;
  if (command === samCommands.findCard) return response.status !== samStatus.success;
  if (command === samCommands.selectCard || command === samCommands.samStatus) return !cardStatus;

  const textSized = response.data.length > textBlockLength;
  return !cardStatus && (response.status !== samStatus.success || textSized);
}

function startsWithPreamble(bytes: Uint8Array): boolean {
  return samPreamble.every((byte, index) => bytes[index] === byte);
}

function timeoutError(command: SamCommand, ms: number): KioskError {
  const name = `${hex(command.cmd)} ${hex(command.para)}`;
  return new KioskError('timeout', `ID card reader did not answer ${name} within ${ms} ms`);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0').toUpperCase();
}

function subscribe<T>(
  listeners: Set<(value: T) => void>,
  listener: (value: T) => void,
): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Calls every listener; one that throws is logged and cannot starve the rest or the poll. */
function emit<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      log.error({ err: error }, 'emit: a listener threw');
    }
  }
}

function validate(options: SamReaderOptions): SamIdCardReader['options'] {
  const resolved = {
    port: options.port,
    baudRate: options.baudRate ?? 115_200,
    pollIntervalMs: options.pollIntervalMs ?? 300,
    responseTimeoutMs: options.responseTimeoutMs ?? 500,
    readTimeoutMs: options.readTimeoutMs ?? 3_000,
    withFingerprint: options.withFingerprint ?? false,
    reconnectIntervalMs: options.reconnectIntervalMs ?? 500,
    maxFrameLength: options.maxFrameLength ?? samDefaultMaxLength,
    clock: options.clock ?? {},
  };
  const durations = [
    'pollIntervalMs',
    'responseTimeoutMs',
    'readTimeoutMs',
    'reconnectIntervalMs',
  ] as const;
  for (const name of durations) {
    if (!(resolved[name] > 0)) throw new KioskError('config_invalid', `${name} must be positive`);
  }

  return resolved;
}

function openPort(options: { port: string; baudRate: number }): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: options.port,
      baudRate: options.baudRate,
      autoOpen: false,
    });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();

  return new Promise((resolve) => port.close(() => resolve()));
}

function writeAndDrain(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes), (writeError) => {
      if (writeError) return reject(writeError);

      port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
    });
  });
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KioskError('timeout', `write took over ${ms} ms`)), ms);
  });

  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function asConnectError(cause: unknown, path: string): KioskError {
  if (cause instanceof KioskError) return cause;

  const message = cause instanceof Error ? cause.message : String(cause);
  // Another process holding the port is a setup fault a technician must see, not an unplug.
  const busy = /busy|lock|temporarily unavailable/i.test(message);
  return new KioskError(
    busy ? 'port_busy' : 'disconnected',
    `cannot open ID card port ${path}: ${message}`,
    { cause },
  );
}
