/**
 * Plays a SAM ID card reader on the device end of a pseudo-terminal pair, so tests and demo
 * kiosks exercise the same bytes a real reader would see. Tests script it: place and lift cards,
 * corrupt, delay or swallow answers. It records every command with the time it arrived and
 * reopens by itself when the pair is replugged.
 */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { deviceChanged, deviceIdentity } from '../relay/device-node.js';
import type { IdCardFields } from './id-record.js';
import { encodeReadData } from './read-response.js';
import {
  encodeSamResponse,
  samCommandParser,
  samCommands,
  samStatus,
  type SamCommand,
} from './sam-protocol.js';
import { encodeTextBlock, type EncodeOptions } from './text-block.js';

const log = moduleLogger('idcard.simulator');

/** One command the reader received. */
export interface ReceivedCommand {
  /** Date.now() when its bytes arrived. */
  at: number;
  cmd: number;
  para: number;
  bytes: Uint8Array;
}

/** Picks the commands a scripted behaviour applies to; all of them when left out. */
export type CommandFilter = (command: SamCommand) => boolean;

/** True for the read commands (30 01 and 30 10). */
export const isReadCommand: CommandFilter = (command) =>
  command.cmd === 0x30 && (command.para === 0x01 || command.para === 0x10);

/** How the simulated reader is built. */
export interface SamSimulatorOptions {
  baudRate?: number;
  /**
   * Answer as late as a real line at `baudRate` would deliver: the command's and the answer's
   * bytes at 10 bits each (start, 8 data, stop). A pty moves them at once otherwise.
   */
  paced?: boolean;
  /** Refuse a second find until the card is lifted, as many readers do. */
  refuseRepeatedFind?: boolean;
  /** Reopen by itself when the pair is replugged. */
  autoReopen?: boolean;
  /** How often to look for the port while waiting for it to (re)appear. */
  pollIntervalMs?: number;
  /** How long open() waits for the port to appear. */
  openTimeoutMs?: number;
  /** Commands kept for commands(); older ones are dropped so a long demo stays small. */
  maxRecorded?: number;
}

/** A card on the simulated reader, by its encoded parts. */
interface PlacedCard {
  text: Uint8Array;
  photo: Uint8Array;
  fingerprint: Uint8Array;
  found: boolean;
}

/** A scripted change to the next answers: each rule counts down as it applies. */
interface Rule {
  kind: 'corrupt' | 'delay' | 'silent';
  remaining: number;
  delayMs: number;
  applies: CommandFilter;
}

const everyCommand: CommandFilter = () => true;

// Every command of the protocol is CMD PARA in a 10-byte frame; 8N1 puts 10 bits on the line a byte.
const commandFrameLength = 10;
const bitsPerByte = 10;

/** A simulated SAM reader on a serial port path, usually a PtyPair's `b`. */
export class SamSimulator {
  private port: SerialPort | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private closed = false;
  private reopening: Promise<void> | undefined;
  private card: PlacedCard | undefined;
  private rules: Rule[] = [];
  private received: ReceivedCommand[] = [];
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly parser = samCommandParser();
  private readonly commandListeners = new Set<(command: ReceivedCommand) => void>();
  private readonly options: Required<SamSimulatorOptions>;

  /** Opens a simulator on `path`, waiting for the path to appear if need be. */
  static async open(path: string, options: SamSimulatorOptions = {}): Promise<SamSimulator> {
    const simulator = new SamSimulator(path, options);
    await simulator.open();
    return simulator;
  }

  constructor(
    readonly path: string,
    options: SamSimulatorOptions = {},
  ) {
    this.options = {
      baudRate: options.baudRate ?? 115_200,
      paced: options.paced ?? false,
      refuseRepeatedFind: options.refuseRepeatedFind ?? false,
      autoReopen: options.autoReopen ?? true,
      pollIntervalMs: options.pollIntervalMs ?? 10,
      openTimeoutMs: options.openTimeoutMs ?? 5_000,
      maxRecorded: options.maxRecorded ?? 10_000,
    };
  }

  /** True while the reader's port is open. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Opens the port once it exists; rejects with `timeout` if it does not appear in time. */
  async open(): Promise<void> {
    this.closed = false;
    await this.openWhenPresent(Date.now() + this.options.openTimeoutMs);
  }

  /** Closes the port, drops answers still waiting to go out and stops reopening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    this.dropDelayed();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.reopening?.catch(() => undefined);
  }

  /** Puts a card on the reader, its text block built from `fields`. */
  placeCard(
    fields: IdCardFields,
    options: EncodeOptions & { fingerprintLength?: number } = {},
  ): void {
    this.card = {
      text: encodeTextBlock(fields, options),
      photo: photoBytes(),
      fingerprint: new Uint8Array(options.fingerprintLength ?? 0).fill(0x46),
      found: false,
    };
    log.info({ kind: fields.kind }, 'card: placed');
  }

  /** Takes the card off the reader. */
  liftCard(): void {
    this.card = undefined;
    log.info('card: lifted');
  }

  /** Sends the next `count` matching answers with their checksum broken. */
  corruptNext(count = 1, applies: CommandFilter = everyCommand): void {
    this.rules.push({ kind: 'corrupt', remaining: count, delayMs: 0, applies });
  }

  /** Holds the next `count` matching answers back for `delayMs`, as a slow reader does. */
  delayNext(delayMs: number, count = 1, applies: CommandFilter = everyCommand): void {
    this.rules.push({ kind: 'delay', remaining: count, delayMs, applies });
  }

  /** Answers nothing to matching commands until setSilent(false). */
  setSilent(silent: boolean, applies: CommandFilter = everyCommand): void {
    this.rules = this.rules.filter((rule) => rule.kind !== 'silent');
    if (silent) {
      this.rules.push({ kind: 'silent', remaining: Number.POSITIVE_INFINITY, delayMs: 0, applies });
    }
  }

  /** Writes raw bytes to the host, e.g. line noise. */
  sendRaw(bytes: Uint8Array): void {
    this.port?.write(Buffer.from(bytes));
  }

  /** Every command received since the last clear(), oldest first. */
  commands(): ReceivedCommand[] {
    return [...this.received];
  }

  /** Forgets the recorded commands. */
  clear(): void {
    this.received = [];
  }

  /** Calls `listener` with each command received; returns the unsubscribe. */
  onCommand(listener: (command: ReceivedCommand) => void): () => void {
    this.commandListeners.add(listener);
    return () => {
      this.commandListeners.delete(listener);
    };
  }

  /**
   * Resolves with the `count`th command matching `predicate` from index `from` of commands() on
   * (received already or still to come); rejects with `timeout` after `timeoutMs`.
   */
  waitForCommand(
    predicate: (command: ReceivedCommand) => boolean,
    options: { count?: number; from?: number; timeoutMs?: number } = {},
  ): Promise<ReceivedCommand> {
    const { count = 1, from = 0, timeoutMs = 2_000 } = options;
    const seen = this.received.slice(from).filter(predicate);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]);

    let missing = count - seen.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new KioskError('timeout', `no matching ID card command within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onCommand((command) => {
        if (!predicate(command) || --missing > 0) return;

        clearTimeout(timer);
        unsubscribe();
        resolve(command);
      });
    });
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { command: number; port: number } {
    const port = this.port;
    const portListeners = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return { command: this.commandListeners.size, port: portListeners };
  }

  private async openWhenPresent(deadline: number): Promise<void> {
    while (!this.closed) {
      const port = await this.tryOpen();
      if (port) return this.attach(port);

      if (Date.now() > deadline) {
        throw new KioskError('timeout', `simulated ID card port ${this.path} did not appear`);
      }

      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
    }
  }

  private async tryOpen(): Promise<SerialPort | undefined> {
    const present = await stat(this.path).then(
      () => true,
      () => false,
    );
    if (!present) return undefined;

    return new Promise((resolve) => {
      const port = new SerialPort({
        path: this.path,
        baudRate: this.options.baudRate,
        autoOpen: false,
      });
      port.open((error) => resolve(error ? undefined : port));
    });
  }

  private attach(port: SerialPort): void {
    if (this.closed) {
      port.close();
      return;
    }

    this.port = port;
    this.parser.reset();
    port.on('data', (chunk: Buffer) => this.receive(port, chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', () => this.lost(port));
    void this.watch(port);
    log.info({ path: this.path }, 'open: reader listening');
  }

  /** The far end hanging up is not always reported on this end: look at the path as well. */
  private async watch(port: SerialPort): Promise<void> {
    const openedAs = await deviceIdentity(this.path);
    if (port !== this.port) return;

    this.watcher = setInterval(() => {
      void deviceIdentity(this.path).then((now) => {
        if (deviceChanged(openedAs, now))
          this.lost(port, new Error('device node gone or replaced'));
      });
    }, this.options.pollIntervalMs);
    this.watcher.unref();
  }

  private lost(port: SerialPort, error?: Error): void {
    if (port !== this.port) return;

    this.port = undefined;
    clearInterval(this.watcher);
    this.dropDelayed();
    // A reader that lost power has forgotten which card it found.
    if (this.card) this.card.found = false;
    if (port.isOpen) port.close();
    log.info({ path: this.path, err: error?.message }, 'close: reader unplugged');
    if (this.closed || !this.options.autoReopen) return;

    // A replug may take long: there is no deadline here, only close() stops the search.
    this.reopening = this.openWhenPresent(Number.POSITIVE_INFINITY).finally(() => {
      this.reopening = undefined;
    });
  }

  private receive(port: SerialPort, chunk: Buffer): void {
    const at = Date.now();
    for (const result of this.parser.push(chunk)) {
      if (result.kind === 'error') {
        // A reader answers a command it could not check with status 10 or 11.
        const status =
          result.error.code === 'checksum' ? samStatus.commandChecksum : samStatus.commandLength;
        if (result.bytes[0] === 0xaa)
          this.answer(port, { cmd: 0, para: 0 }, encodeSamResponse(status));
        continue;
      }

      this.record({ at, cmd: result.frame.cmd, para: result.frame.para, bytes: result.bytes });
      this.answer(port, result.frame, this.respond(result.frame));
    }
  }

  private record(command: ReceivedCommand): void {
    this.received.push(command);
    if (this.received.length > this.options.maxRecorded) this.received.shift();
    for (const listener of [...this.commandListeners]) listener(command);
  }

  /** The answer a reader gives to `command` in its current state. */
  private respond(command: SamCommand): Uint8Array {
    const is = (known: SamCommand): boolean =>
      command.cmd === known.cmd && command.para === known.para;
    if (is(samCommands.resetSam) || is(samCommands.samStatus))
      return encodeSamResponse(samStatus.success);
    if (is(samCommands.readSamId))
      return encodeSamResponse(samStatus.success, new Uint8Array(16).fill(0x01));
    if (is(samCommands.findCard)) return this.find();
    if (is(samCommands.selectCard)) return this.select();
    if (isReadCommand(command)) return this.read(command.para === 0x10);
    if (is(samCommands.readAppendedAddress)) return encodeSamResponse(samStatus.noSuchContent);

    return encodeSamResponse(samStatus.badCommand);
  }

  private find(): Uint8Array {
    const card = this.card;
    const refused = card?.found === true && this.options.refuseRepeatedFind;
    if (!card || refused) return encodeSamResponse(samStatus.noCard);

    card.found = true;
    return encodeSamResponse(samStatus.cardFound, new Uint8Array(4));
  }

  private select(): Uint8Array {
    if (!this.card) return encodeSamResponse(samStatus.selectFailed);

    return encodeSamResponse(samStatus.success, new Uint8Array(8));
  }

  private read(withFingerprint: boolean): Uint8Array {
    const card = this.card;
    if (!card) return encodeSamResponse(samStatus.readFailed);

    const fingerprint = withFingerprint ? card.fingerprint : undefined;
    return encodeSamResponse(samStatus.success, encodeReadData(card.text, card.photo, fingerprint));
  }

  /** Sends an answer through whatever rules the test set. */
  private answer(port: SerialPort, command: SamCommand, frame: Uint8Array): void {
    const rules = this.rules.filter((rule) => rule.applies(command));
    if (rules.some((rule) => rule.kind === 'silent')) return;

    const corrupt = this.take(rules, 'corrupt');
    const delay = this.take(rules, 'delay');
    const bytes = corrupt ? withBrokenChecksum(frame) : frame;
    const wait = (delay?.delayMs ?? 0) + this.lineTimeMs(commandFrameLength + bytes.length);
    if (wait === 0) return void port.write(Buffer.from(bytes));

    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (port === this.port) port.write(Buffer.from(bytes));
    }, wait);
    this.delayed.add(timer);
  }

  /** How long `bytes` take on the line when pacing, else nothing. */
  private lineTimeMs(bytes: number): number {
    return this.options.paced ? (bytes * bitsPerByte * 1_000) / this.options.baudRate : 0;
  }

  /** The first rule of `kind`, counted down and dropped once used up. */
  private take(rules: Rule[], kind: Rule['kind']): Rule | undefined {
    const rule = rules.find((candidate) => candidate.kind === kind);
    if (!rule) return undefined;

    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    return rule;
  }

  private dropDelayed(): void {
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
  }
}

function withBrokenChecksum(frame: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(frame);
  copy[copy.length - 1] ^= 0xff;
  return copy;
}

/** Stand-in photo bytes: the real format is proprietary, and the kiosk only counts them. */
function photoBytes(): Uint8Array {
  return Uint8Array.from({ length: 1024 }, (_, index) => (index * 31 + 7) & 0xff);
}
