/**
 * Driver for Modbus RTU relay boards (write single coil, function 05). The board echoes every
 * request, so unlike an LCUS board a lost or garbled command is noticed: the driver waits for each
 * echo and treats a missing or different one as a fault. Boards with a flash mode (Waveshare) are
 * pulsed with it, so a pulse ends on time even if the kiosk dies half way through.
 */
import type { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import {
  echoProblem,
  flashFrame,
  flashUnitMs,
  flashUnits,
  isModbusAddress,
  ModbusReplyParser,
  switchFrame,
  type ModbusAddressing,
  type ModbusOnValue,
  type ModbusParseResult,
} from './modbus-protocol.js';
import { toHex } from './lcus-protocol.js';
import { linkOptions, SerialRelay, type SerialLinkOptions } from './serial-relay.js';

const log = moduleLogger('relay.modbus');

/** The most relays a board may have here; the flash coils at 0200 must stay clear of them. */
export const modbusMaxChannel = 32;

/** How to reach the board, how it numbers its coils, and which channel opens the barrier. */
export interface ModbusRelayOptions extends SerialLinkOptions {
  /** The channel wired to the barrier, counted from 1 as printed on the board. */
  channel: number;
  /** Channels 1..boardChannels are all driven off on every (re)open; left out, only `channel`. */
  boardChannels?: number;
  /** Slave address: 1 by default, 255 on some boards. */
  address?: number;
  /** The coil of channel 1: 0 (default) or 1. */
  coilBase?: 0 | 1;
  /** How the board spells "on": FF 00 (default) or 01 00. */
  onValue?: ModbusOnValue;
  /** Pulse with the board's flash coils (0200 + coil), which it releases by itself. */
  flash?: boolean;
  /** The board is wired so that a released coil closes the contact: swap on and off. */
  invert?: boolean;
  /** How long a board may take to echo a request once it has been written. Default 500 ms. */
  echoTimeoutMs?: number;
}

type BoardOptions = Required<Omit<ModbusRelayOptions, keyof SerialLinkOptions>>;

/** A Modbus relay channel as the core's RelayDriver: pulses only, every request echo-checked. */
export class ModbusRelay extends SerialRelay {
  private readonly options: BoardOptions;
  private readonly addressing: ModbusAddressing;
  private readonly parser = new ModbusReplyParser();
  private pending: PendingEcho | undefined;
  // One request on the line at a time: the echo names no request, only its bytes do.
  private line: Promise<void> = Promise.resolve();

  constructor(options: ModbusRelayOptions) {
    const board = validate(options);
    super(linkOptions(options), log, {
      port: options.port,
      address: board.address,
      channel: board.channel,
    });
    this.options = board;
    this.addressing = { address: board.address, coilBase: board.coilBase, onValue: board.onValue };
  }

  protected runPulse(ms: number, generation: number): Promise<void> {
    const port = this.portFor(generation);
    if (this.options.flash) return this.flashPulse(port, ms, generation);

    return this.softwarePulse(port, ms, generation);
  }

  protected async driveAllOff(port: SerialPort): Promise<void> {
    for (const channel of this.channelsToDriveOff()) {
      await this.exchange(port, switchFrame(this.addressing, channel, this.options.invert));
    }
  }

  protected override receive(chunk: Buffer): void {
    for (const result of this.parser.push(chunk)) {
      const pending = this.pending;
      if (pending) pending.offer(result);
      else
        log.debug({ kind: result.kind, bytes: toHex(result.bytes) }, 'echo: unexpected, dropped');
    }
  }

  protected override portChanged(): void {
    this.parser.reset();
    this.pending?.fail(new KioskError('disconnected', 'relay port lost while awaiting an echo'));
  }

  private async softwarePulse(port: SerialPort, ms: number, generation: number): Promise<void> {
    await this.closeContact(port, this.switchTo(true));

    const completed = await this.waitWhileUp(ms, generation);

    // Sent even when interrupted by close(); after a loss the reopen drives off instead.
    if (this.isCurrent(port)) await this.exchange(port, this.switchTo(false));
    if (!completed)
      throw new KioskError('disconnected', 'relay port lost or closed during a pulse');
  }

  private async flashPulse(port: SerialPort, ms: number, generation: number): Promise<void> {
    const flash = flashFrame(this.addressing, this.options.channel, ms);
    await this.closeContact(port, flash);

    // The board opens the contact itself; waiting keeps pulses apart and says when it has.
    const completed = await this.waitWhileUp(flashUnits(ms) * flashUnitMs, generation);
    if (completed) return;

    if (this.isCurrent(port)) await this.exchange(port, this.switchTo(false));
    throw new KioskError('disconnected', 'relay port lost or closed during a pulse');
  }

  /**
   * Sends the request that closes the contact. Without its echo the board may still have acted
   * on it, so it is told to open again at once rather than at the next retry.
   */
  private async closeContact(port: SerialPort, request: Uint8Array): Promise<void> {
    try {
      await this.exchange(port, request);
    } catch (error) {
      if (port.isOpen) await this.exchange(port, this.switchTo(false)).catch(() => undefined);
      throw error;
    }
  }

  private switchTo(closed: boolean): Uint8Array {
    return switchFrame(this.addressing, this.options.channel, closed !== this.options.invert);
  }

  /** Sends one request and waits for its echo; any problem with the echo is a fault. */
  private exchange(port: SerialPort, request: Uint8Array): Promise<void> {
    const run = this.line.then(() => this.exchangeNow(port, request));
    this.line = run.catch(() => undefined);
    return run;
  }

  private async exchangeNow(port: SerialPort, request: Uint8Array): Promise<void> {
    this.parser.reset();
    const pending = new PendingEcho(request);
    this.pending = pending;
    try {
      await this.send(port, request);
      pending.arm(this.options.echoTimeoutMs);
      await pending.done;
    } catch (error) {
      pending.fail(error);
      if (error instanceof KioskError && !hasLostPort(error)) this.fault(port, error);
      throw error;
    } finally {
      if (this.pending === pending) this.pending = undefined;
    }
  }

  private channelsToDriveOff(): number[] {
    const { boardChannels, channel } = this.options;
    if (boardChannels === 0) return [channel];

    return Array.from({ length: boardChannels }, (_, index) => index + 1);
  }
}

/** The echo one request waits for. Noise before it is tolerated (line turnaround glitches). */
class PendingEcho {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  private noise: KioskError | undefined;

  constructor(private readonly request: Uint8Array) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Failing before anyone awaits (an unplug during the write) must not go unhandled.
    this.done.catch(() => undefined);
  }

  /** Starts the clock once the request has left. */
  arm(timeoutMs: number): void {
    if (this.settled) return;

    this.timer = setTimeout(() => this.fail(this.noise ?? this.timeout(timeoutMs)), timeoutMs);
  }

  /** Takes one parse result: the echo ends the wait, another frame or a refusal fails it. */
  offer(result: ModbusParseResult): void {
    const problem = echoProblem(this.request, result);
    if (!problem) {
      this.settled = true;
      clearTimeout(this.timer);
      this.resolve();
      return;
    }

    if (result.kind === 'error') this.noise ??= problem;
    else this.fail(problem);
  }

  fail(error: unknown): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(error);
  }

  private timeout(timeoutMs: number): KioskError {
    return new KioskError(
      'timeout',
      `no echo of ${toHex(this.request)} within ${timeoutMs} ms: is the board powered, on this address and baud rate?`,
    );
  }
}

function hasLostPort(error: KioskError): boolean {
  return error.code === 'disconnected';
}

function validate(options: ModbusRelayOptions): BoardOptions {
  const channelOk = (value: number): boolean =>
    Number.isInteger(value) && value >= 1 && value <= modbusMaxChannel;
  if (!channelOk(options.channel)) {
    throw invalid(`relay channel must be 1..${modbusMaxChannel}, got ${options.channel}`);
  }

  const boardChannels = options.boardChannels;
  if (boardChannels !== undefined && (!channelOk(boardChannels) || options.channel > boardChannels))
    throw invalid(`boardChannels must be 1..${modbusMaxChannel} and include the channel`);

  const board: BoardOptions = {
    channel: options.channel,
    boardChannels: boardChannels ?? 0,
    address: options.address ?? 1,
    coilBase: options.coilBase ?? 0,
    onValue: options.onValue ?? 'FF00',
    flash: options.flash ?? false,
    invert: options.invert ?? false,
    echoTimeoutMs: options.echoTimeoutMs ?? 500,
  };
  checkBoard(board);
  return board;
}

function checkBoard(board: BoardOptions): void {
  if (!isModbusAddress(board.address))
    throw invalid(`Modbus address must be 1..247 or 255, got ${board.address}`);
  if (board.coilBase !== 0 && board.coilBase !== 1)
    throw invalid(`coilBase must be 0 or 1, got ${String(board.coilBase)}`);
  if (board.onValue !== 'FF00' && board.onValue !== '0100')
    throw invalid(`onValue must be "FF00" or "0100", got ${String(board.onValue)}`);
  // A flash energises the coil for a time; on an inverted board that would open the contact.
  if (board.flash && board.invert)
    throw invalid('flash pulses energise the coil, so they cannot drive an inverted board');
  if (!(board.echoTimeoutMs > 0)) throw invalid('echoTimeoutMs must be positive');
}

function invalid(message: string): KioskError {
  return new KioskError('config_invalid', message);
}
