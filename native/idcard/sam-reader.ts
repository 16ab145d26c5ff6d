/**
 * Driver for second-generation ID card readers speaking the SAM protocol over serial. It polls
 * find → select → read, reports each placement of a card once, and treats an unplug as an
 * ordinary event: noticed by port events, failed writes, timeouts and the device node, and
 * followed by reopening the port when it returns. A reader that stops answering on a port still
 * there is `error` until it answers a status query again.
 */
import { KioskError, hasCode } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import { RetryTimer, type StateListener } from '../device-state.js';
import { SerialConnection } from '../serial-connection.js';
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

// One unanswered command can be a glitch; this many in a row is a reader that has gone silent.
const unansweredLimit = 3;

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
  // True once the card now on the reader was handled (read or refused): it is not read again
  // until a find fails, which is how a lifted card shows.
  private placementHandled = false;
  // True after a select whose read failed for a passing reason. Many readers refuse a second
  // find until the card is lifted, so the retry goes straight to select.
  private retrySelect = false;
  // Commands in a row the reader left unanswered; any answer starts the count again.
  private unansweredInRow = 0;
  private pending: Pending | undefined;
  private cycle: Promise<void> = Promise.resolve();
  private readonly parser;
  private readonly options: Required<Omit<SamReaderOptions, 'clock'>> & { clock: CardClock };
  private readonly connection: SerialConnection;
  private readonly poller: RetryTimer;
  private readonly cardListeners = new Set<(read: IdCardRead) => void>();
  private readonly errorListeners = new Set<(error: KioskError) => void>();

  constructor(options: SamReaderOptions) {
    this.options = validate(options);
    this.parser = samResponseParser({ maxLength: this.options.maxFrameLength });
    const { port, baudRate, reconnectIntervalMs } = this.options;
    this.connection = new SerialConnection(
      {
        path: port,
        baudRate,
        reconnectIntervalMs,
        name: 'ID card',
        device: { port },
        writeTimeoutMs,
        // A silent reader keeps its port and is asked for its SAM status again at each check, so
        // it stays in `error` without a log line per probe and comes back once it answers.
        keepPortOnFailedHandshake: true,
      },
      log,
      {
        handshake: () => this.greet(),
        data: (chunk) => this.receive(chunk),
        reset: () => this.parser.reset(),
        lost: (error) => this.pending?.reject(error),
        closing: () => this.finishCycle(),
      },
    );
    this.poller = new RetryTimer(this.options.pollIntervalMs, () => this.poll(), log);
  }

  /** `connected` once the port is open and the SAM has answered a status query. */
  get state(): DeviceState {
    return this.connection.state;
  }

  /** Opens the port; when the reader is absent, rejects but keeps looking until close(). */
  open(): Promise<void> {
    this.poller.start();
    return this.connection.open();
  }

  /** Stops polling and closes the port; a pending answer is given up, never thrown. */
  close(): Promise<void> {
    this.poller.stop();
    return this.connection.close();
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
    return this.connection.onStateChange(listener);
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { state: number; card: number; error: number; port: number } {
    const { state, port } = this.connection.listenerCounts();
    return { state, card: this.cardListeners.size, error: this.errorListeners.size, port };
  }

  /** The handshake of a new port, and the probe of a silent one: the SAM must answer its status. */
  private async greet(): Promise<void> {
    const ms = this.options.responseTimeoutMs;
    const answer = await this.request(samCommands.samStatus, ms).catch((error: unknown) => {
      const silent = hasCode(error, 'timeout');
      throw silent ? this.silenceError(`did not answer a SAM status query within ${ms} ms`) : error;
    });
    if (answer.status !== samStatus.success) throw statusError(answer.status, 'SAM status');

    // A reader that was away may hold another card now: nothing from before is carried over.
    this.placementHandled = false;
    this.retrySelect = false;
  }

  /** close() began: a pending answer is given up and the poll under way ends. */
  private async finishCycle(): Promise<void> {
    this.pending?.reject(new KioskError('disconnected', 'ID card reader closed'));
    await this.cycle;
  }

  private async poll(): Promise<void> {
    if (this.connection.isClosed || !this.connection.port || this.state !== 'connected') return;

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
    if (this.connection.isClosed || hasCode(error, 'disconnected')) return;

    if (cause instanceof UnansweredError) return this.pollUnanswered(cause);

    // The card's own content will not change by reading it again: once per placement is enough.
    if (hasCode(error, 'unknown_card_type') || hasCode(error, 'card_invalid')) {
      this.placementHandled = true;
      this.retrySelect = false;
    }

    this.report(error);
  }

  /** A poll the reader left unanswered: a few in a row are a silent reader, not a passing glitch. */
  private pollUnanswered(error: UnansweredError): void {
    // Silence is also how an unplugged port can show: look at the device node now.
    void this.connection.checkPresence();
    // A read left unanswered is news to whoever holds the card; a find or select is not.
    if (isRead(error.command)) this.report(error);
    else log.debug({ port: this.options.port, reason: error.message }, 'poll: unanswered');
    if (this.unansweredInRow >= unansweredLimit) this.reportSilence();
  }

  /** The reader stopped answering on a port still there: `error` until a status query passes. */
  private reportSilence(): void {
    if (this.state !== 'connected' || !this.connection.port) return;

    const error = this.silenceError(`did not answer ${this.unansweredInRow} commands in a row`);
    this.connection.reportFault(error);
  }

  private silenceError(what: string): KioskError {
    const { port, baudRate } = this.options;
    return new KioskError(
      'timeout',
      `ID card reader on ${port} ${what}: is the reader powered, and is its baud rate ${baudRate} right?`,
    );
  }

  private report(error: KioskError): void {
    log.warn({ port: this.options.port, code: error.code, reason: error.message }, 'poll: failed');
    emit(this.errorListeners, error);
  }

  /** Sends `command` and resolves with its answer; rejects `timeout`, `disconnected` or a parse error. */
  private request(command: SamCommand, timeoutMs: number): Promise<SamResponse> {
    const port = this.connection.port;
    if (!port || this.connection.isClosed) return Promise.reject(this.notConnected());

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
        this.unansweredInRow += 1;
        pending.reject(new UnansweredError(command, timeoutMs));
      }, timeoutMs);
      this.pending = pending;
    });

    void this.connection.write(port, encodeSamCommand(command)).catch(() => undefined);
    return answer;
  }

  private receive(chunk: Buffer): void {
    for (const result of this.parser.push(chunk)) this.deliver(result);
  }

  private deliver(result: SamParseResult<SamResponse>): void {
    const pending = this.pending;
    if (result.kind === 'frame') {
      // Any answer, even a late one, shows the reader is listening.
      this.unansweredInRow = 0;
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

/** A command the reader left unanswered; it names the command, so a poll can tell which. */
class UnansweredError extends KioskError {
  constructor(
    readonly command: SamCommand,
    ms: number,
  ) {
    const name = `${hex(command.cmd)} ${hex(command.para)}`;
    super('timeout', `ID card reader did not answer ${name} within ${ms} ms`);
  }
}

function isRead(command: SamCommand): boolean {
  return command.cmd === samCommands.readTextPhoto.cmd;
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
