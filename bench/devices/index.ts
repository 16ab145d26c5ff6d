/**
 * How fast the entry devices' drivers deliver, on their simulators at each device's real baud
 * rate: (a) an ID card placed on a SAM reader (115200 baud) until the driver hands over the parsed
 * record, with the reader's default poll interval; (b) a serial scanner (9600 baud) from the end
 * of a code (its suffix) until the driver's scan event. A pseudo-terminal moves bytes at once, so
 * the simulators hold each answer back for its time on a real line; the SAM module's own
 * processing time (often hundreds of milliseconds on real readers) is not modelled.
 */
import { SamIdCardReader } from '../../native/idcard/sam-reader.js';
import { SamSimulator } from '../../native/idcard/sam-simulator.js';
import { residentCard } from '../../native/idcard/testing/cards.js';
import { encodeReadData } from '../../native/idcard/read-response.js';
import { encodeSamResponse, samStatus } from '../../native/idcard/sam-protocol.js';
import type { IdCardRead } from '../../native/idcard/id-record.js';
import { SerialScanner } from '../../native/scanner/serial-scanner.js';
import { SerialScannerSimulator } from '../../native/scanner/serial-scanner-simulator.js';
import type { ScannerScan } from '../../app/common/scanner-scan.js';
import { startSimulatedDevice } from '../../native/simulated-device.js';
import { formatTable, percentile, round } from '../support/stats.js';

const reads = Number(process.env.BENCH_READS ?? 100);
const cardBaud = 115_200;
const scannerBaud = 9_600;
// The reader's default: a card waits for the next look, half an interval on average.
const cardPollMs = 300;
// 8N1: start bit, 8 data bits, stop bit.
const bitsPerByte = 10;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Resolves with the next value `subscribe` delivers, or rejects after `timeoutMs`. */
function next<T>(subscribe: (listener: (value: T) => void) => () => void, timeoutMs: number) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`nothing arrived within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = subscribe((value) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** Card placed → record, `reads` times, each placement at a random point of the poll cycle. */
async function timeCardReads(): Promise<number[]> {
  const device = await startSimulatedDevice({
    name: 'bench-idcard',
    simulator: (path) => new SamSimulator(path, { baudRate: cardBaud, paced: true }),
    driver: (port) => new SamIdCardReader({ port, baudRate: cardBaud, pollIntervalMs: cardPollMs }),
  });
  const { driver: reader, simulator } = device;
  const samples: number[] = [];

  try {
    for (let index = 0; index < reads; index += 1) {
      await sleep(Math.random() * cardPollMs);
      const arrived = next<IdCardRead>((listener) => reader.onCard(listener), 5_000);
      const placedAt = performance.now();
      simulator.placeCard(residentCard);
      await arrived;
      samples.push(performance.now() - placedAt);

      // Lifted and seen to be gone (one more empty look), so the next placement is new.
      simulator.liftCard();
      await sleep(cardPollMs * 2);
      progress(`ID card reads ${index + 1}/${reads}`);
    }
  } finally {
    await device.stop();
  }
  return samples;
}

/** A pass-sized code typed onto the line at the scanner's baud rate, then its suffix. */
async function timeScans(): Promise<{ samples: number[]; codeBytes: number }> {
  const device = await startSimulatedDevice({
    name: 'bench-scanner',
    simulator: (path) => new SerialScannerSimulator(path, { baudRate: scannerBaud }),
    driver: (port) => new SerialScanner({ port, baudRate: scannerBaud }),
  });
  const { driver: scanner, simulator } = device;
  const code = 'GK1.' + 'x'.repeat(300);
  const suffix = Uint8Array.of(0x0d);
  const suffixLineMs = (suffix.length * bitsPerByte * 1_000) / scannerBaud;
  const samples: number[] = [];

  try {
    await simulator.whenOpen();
    for (let index = 0; index < reads; index += 1) {
      await simulator.scan(code, { suffix: null, paced: true, chunks: 16 });
      const arrived = next<ScannerScan>((listener) => scanner.onScan(listener), 5_000);
      const suffixSentAt = performance.now();
      await simulator.sendRaw(suffix);
      await arrived;
      // The pty delivers the suffix at once; on a line its last bit comes one byte-time later,
      // and the driver's work starts from there.
      samples.push(performance.now() - suffixSentAt + suffixLineMs);
      progress(`scans ${index + 1}/${reads}`);
    }
  } finally {
    await device.stop();
  }
  return { samples, codeBytes: code.length + suffix.length };
}

function progress(text: string): void {
  process.stderr.write(process.stderr.isTTY ? `\r${text.padEnd(40)}` : `${text}\n`);
}

function summary(values: number[]) {
  return {
    median: round(percentile(values, 0.5), 2),
    p95: round(percentile(values, 0.95), 2),
    max: round(Math.max(...values), 2),
  };
}

async function main(): Promise<void> {
  const card = summary(await timeCardReads());
  const scans = await timeScans();
  const scan = summary(scans.samples);
  if (process.stderr.isTTY) process.stderr.write('\n');

  // The read answer (text and photo) is most of a card read's time on the line.
  const readAnswer = encodeSamResponse(
    samStatus.success,
    encodeReadData(new Uint8Array(256), new Uint8Array(1024)),
  );
  const cardLineMs = round((readAnswer.length * bitsPerByte * 1_000) / cardBaud, 1);
  console.log(`entry devices on their simulators, ${reads} reads each\n`);
  console.log(
    formatTable([
      ['stage', 'median ms', 'p95 ms', 'max ms'],
      [`ID card placed → record (${cardBaud} baud, poll ${cardPollMs} ms)`, ...figures(card)],
      [`scanner end of code → scan event (${scannerBaud} baud)`, ...figures(scan)],
    ]),
  );
  console.log(
    `\nthe ${readAnswer.length}-byte read answer alone takes ${cardLineMs} ms at ${cardBaud} baud; ` +
      `a card also waits for the next poll (0-${cardPollMs} ms).`,
  );
  console.log(
    JSON.stringify({
      benchmark: 'devices',
      reads,
      idCard: { baudRate: cardBaud, pollIntervalMs: cardPollMs, readLineMs: cardLineMs, ...card },
      scanner: { baudRate: scannerBaud, codeBytes: scans.codeBytes, ...scan },
    }),
  );
}

function figures(values: { median: number; p95: number; max: number }): string[] {
  return [values.median.toFixed(2), values.p95.toFixed(2), values.max.toFixed(2)];
}

await main();
