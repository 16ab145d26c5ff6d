/**
 * Plays a SAM ID card reader on the device end of a pseudo-terminal pair, so tests and demo
 * kiosks exercise the same bytes a real reader would see. Tests script it: place and lift cards,
 * corrupt, delay or swallow answers. It records every command with the time it arrived and
 * reopens by itself when the pair is replugged.
 */
import { moduleLogger } from '../../app/core/log.js';
import {
  PortSimulator,
  Recording,
  simulatorDefaults,
  type SimulatorOptions,
  type WaitForOptions,
} from '../testing/simulator-port.js';
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
export interface SamSimulatorOptions extends SimulatorOptions {
  /**
   * Answer as late as a real line at `baudRate` would deliver: the command's and the answer's
   * bytes at 10 bits each (start, 8 data, stop). A pty moves them at once otherwise.
   */
  paced?: boolean;
  /** Refuse a second find until the card is lifted, as many readers do. */
  refuseRepeatedFind?: boolean;
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
export class SamSimulator extends PortSimulator {
  private card: PlacedCard | undefined;
  private rules: Rule[] = [];
  private readonly received: Recording<ReceivedCommand>;
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly parser = samCommandParser();
  private readonly options: Required<SamSimulatorOptions>;

  constructor(path: string, options: SamSimulatorOptions = {}) {
    const filled = {
      ...simulatorDefaults(options, 115_200),
      paced: options.paced ?? false,
      refuseRepeatedFind: options.refuseRepeatedFind ?? false,
    };
    super(path, { ...filled, name: 'ID card' }, log);
    this.options = filled;
    this.received = new Recording('ID card command', filled.maxRecorded);
  }

  /** Closes the port, drops answers still waiting to go out and stops reopening. */
  override async close(): Promise<void> {
    this.dropDelayed();
    await super.close();
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
    this.port.write(bytes);
  }

  /** Every command received since the last clear(), oldest first. */
  commands(): ReceivedCommand[] {
    return this.received.all();
  }

  /** Forgets the recorded commands. */
  clear(): void {
    this.received.clear();
  }

  /** Calls `listener` with each command received; returns the unsubscribe. */
  onCommand(listener: (command: ReceivedCommand) => void): () => void {
    return this.received.subscribe(listener);
  }

  /**
   * Resolves with the `count`th command matching `predicate` from index `from` of commands() on
   * (received already or still to come); rejects with `timeout` after `timeoutMs`.
   */
  waitForCommand(
    predicate: (command: ReceivedCommand) => boolean,
    options: WaitForOptions = {},
  ): Promise<ReceivedCommand> {
    return this.received.waitFor(predicate, options);
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { command: number; port: number } {
    return { command: this.received.listenerCount, port: this.port.listenerCount };
  }

  protected override opened(): void {
    this.parser.reset();
  }

  /** A reader that lost power drops what it was about to send and forgets the card it found. */
  protected override lost(): void {
    this.dropDelayed();
    if (this.card) this.card.found = false;
  }

  protected override receive(chunk: Buffer): void {
    const at = Date.now();
    for (const result of this.parser.push(chunk)) {
      if (result.kind === 'error') {
        // A reader answers a command it could not check with status 10 or 11.
        const status =
          result.error.code === 'checksum' ? samStatus.commandChecksum : samStatus.commandLength;
        if (result.bytes[0] === 0xaa) this.answer({ cmd: 0, para: 0 }, encodeSamResponse(status));
        continue;
      }

      this.received.add({
        at,
        cmd: result.frame.cmd,
        para: result.frame.para,
        bytes: result.bytes,
      });
      this.answer(result.frame, this.respond(result.frame));
    }
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
  private answer(command: SamCommand, frame: Uint8Array): void {
    const rules = this.rules.filter((rule) => rule.applies(command));
    if (rules.some((rule) => rule.kind === 'silent')) return;

    const corrupt = this.take(rules, 'corrupt');
    const delay = this.take(rules, 'delay');
    const bytes = corrupt ? withBrokenChecksum(frame) : frame;
    const wait = (delay?.delayMs ?? 0) + this.lineTimeMs(commandFrameLength + bytes.length);
    if (wait === 0) return this.port.write(bytes);

    // Unplugging drops these timers: an answer never reaches the port a replug opens.
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      this.port.write(bytes);
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
