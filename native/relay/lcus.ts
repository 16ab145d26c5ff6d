/**
 * Driver for LCUS-1/2/4/8 USB relay boards (CH340 serial, 9600 8N1). The board has no pulse mode
 * and never answers, so the driver sends on, waits and sends off, and after every (re)open sends
 * off again: a board that re-enumerated mid-pulse comes back in whatever state it powers up in.
 */
import type { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { encodeLcusFrame, lcusMaxChannel } from './lcus-protocol.js';
import { linkOptions, SerialRelay, type SerialLinkOptions } from './serial-relay.js';

const log = moduleLogger('relay.lcus');

/** How to reach the board and which of its channels opens the barrier. */
export interface LcusRelayOptions extends SerialLinkOptions {
  /** The channel wired to the barrier, from 1. */
  channel: number;
  /** The board is wired so that a released coil closes the contact: swap on and off. */
  invert?: boolean;
  /**
   * How many channels the board has (1, 2, 4 or 8). Channels 1..boardChannels are all driven off
   * on every (re)open. Left out, only `channel` is: sending frames for channels a board lacks is
   * not described by any maker, and the kiosk drives nothing but its own channel anyway.
   */
  boardChannels?: number;
}

/** An LCUS relay channel as the core's RelayDriver: pulses only, driven off on every open. */
export class LcusRelay extends SerialRelay {
  private readonly options: Required<Omit<LcusRelayOptions, keyof SerialLinkOptions>>;

  constructor(options: LcusRelayOptions) {
    const board = validate(options);
    super(linkOptions(options), log, { port: options.port, channel: board.channel });
    this.options = board;
  }

  protected async runPulse(ms: number, generation: number): Promise<void> {
    const port = this.portFor(generation);
    await this.send(port, this.frame(true));

    const completed = await this.waitWhileUp(ms, generation);

    // Sent even when interrupted by close(); after a loss the reopen drives off instead. An LCUS
    // board has no pulse of its own, so a board cut off mid-pulse keeps its contact closed until
    // the port returns: boards with a hardware pulse are driven by ModbusRelay's flash mode.
    if (this.isCurrent(port)) await this.send(port, this.frame(false));
    if (!completed)
      throw new KioskError('disconnected', 'relay port lost or closed during a pulse');
  }

  protected async driveAllOff(port: SerialPort): Promise<void> {
    for (const channel of this.channelsToDriveOff()) {
      await this.send(port, encodeLcusFrame({ channel, on: this.options.invert }));
    }
  }

  private channelsToDriveOff(): number[] {
    const { boardChannels, channel } = this.options;
    if (boardChannels === 0) return [channel];

    return Array.from({ length: boardChannels }, (_, index) => index + 1);
  }

  private frame(closed: boolean): Uint8Array {
    return encodeLcusFrame({ channel: this.options.channel, on: closed !== this.options.invert });
  }
}

function validate(
  options: LcusRelayOptions,
): Required<Omit<LcusRelayOptions, keyof SerialLinkOptions>> {
  const channelOk = (value: number): boolean =>
    Number.isInteger(value) && value >= 1 && value <= lcusMaxChannel;
  if (!channelOk(options.channel)) {
    throw new KioskError(
      'config_invalid',
      `relay channel must be 1..${lcusMaxChannel}, got ${options.channel}`,
    );
  }

  const boardChannels = options.boardChannels;
  if (
    boardChannels !== undefined &&
    (!channelOk(boardChannels) || options.channel > boardChannels)
  ) {
    throw new KioskError(
      'config_invalid',
      `boardChannels must be 1..${lcusMaxChannel} and include the channel`,
    );
  }

  return {
    channel: options.channel,
    invert: options.invert ?? false,
    boardChannels: options.boardChannels ?? 0,
  };
}
