import { describe, expect, it, onTestFinished } from 'vitest';
import { closeHost, openHost } from '../testing/host-port.js';
import {
  encodeSamCommand,
  samCommands,
  samResponseParser,
  type SamCommand,
  type SamResponse,
} from './sam-protocol.js';
import { residentCard } from './testing/cards.js';
import { simulatedHarness } from './testing/harness.js';

/** The host end of the pair, sending one command at a time and reading the answer. */
async function host(path: string): Promise<(bytes: Uint8Array) => Promise<SamResponse>> {
  const port = await openHost(path, 115_200);
  onTestFinished(() => closeHost(port));
  const parser = samResponseParser();
  let waiting: ((response: SamResponse) => void) | undefined;
  port.on('data', (chunk: Buffer) => {
    for (const result of parser.push(chunk)) if (result.kind === 'frame') waiting?.(result.frame);
  });

  return (bytes) =>
    new Promise((resolve) => {
      waiting = resolve;
      port.write(Buffer.from(bytes));
    });
}

async function setup(): Promise<{
  device: Awaited<ReturnType<typeof simulatedHarness>>['device'];
  ask: (command: SamCommand) => Promise<number>;
  send: (bytes: Uint8Array) => Promise<SamResponse>;
  harness: Awaited<ReturnType<typeof simulatedHarness>>;
}> {
  const harness = await simulatedHarness();
  onTestFinished(() => harness.teardown());
  const send = await host(harness.port);
  const ask = async (command: SamCommand): Promise<number> =>
    (await send(encodeSamCommand(command))).status;
  return { device: harness.device, ask, send, harness };
}

describe('SamSimulator', () => {
  it('answers find, select and read by whether a card is placed', async () => {
    const { device, ask } = await setup();

    expect(await ask(samCommands.findCard)).toBe(0x80);
    expect(await ask(samCommands.selectCard)).toBe(0x81);
    device.placeCard(residentCard);
    expect(await ask(samCommands.findCard)).toBe(0x9f);
    expect(await ask(samCommands.selectCard)).toBe(0x90);
    expect(await ask(samCommands.readTextPhoto)).toBe(0x90);
    device.liftCard();
    expect(await ask(samCommands.readTextPhoto)).toBe(0x41);
  });

  it('records every command with the time it arrived', async () => {
    const { device, ask } = await setup();
    const before = Date.now();

    await ask(samCommands.samStatus);
    await ask(samCommands.findCard);

    const commands = device.commands();
    expect(commands.map(({ cmd, para }) => [cmd, para])).toEqual([
      [0x11, 0xff],
      [0x20, 0x01],
    ]);
    expect(commands[0].at).toBeGreaterThanOrEqual(before);
    expect(commands[1].at).toBeGreaterThanOrEqual(commands[0].at);
  });

  it('answers an unknown command with 21 and a broken one with 10', async () => {
    const { ask, send } = await setup();
    const broken = Uint8Array.from(encodeSamCommand(samCommands.findCard));
    broken[broken.length - 1] ^= 0x01;

    expect(await ask({ cmd: 0x77, para: 0x00 })).toBe(0x21);
    expect((await send(broken)).status).toBe(0x10);
  });

  it('reopens by itself when the pair is replugged', async () => {
    const { harness } = await setup();

    await harness.unplug!();
    expect(harness.device.isOpen).toBe(false);
    await harness.replug!();

    expect(harness.device.isOpen).toBe(true);
    const ask = await host(harness.port);
    expect((await ask(encodeSamCommand(samCommands.samStatus))).status).toBe(0x90);
  });
});
