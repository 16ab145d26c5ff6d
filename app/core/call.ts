/**
 * The kiosk's side of a call to the guards. It holds the control connection to the intercom
 * server, turns the server's messages into flow events, carries the renderer's WebRTC signalling
 * for the call in progress only, and lets a guard's open command reach the gate only through the
 * remote opener's checks, bound to the call the flow is in and the guard who answered it.
 */
import { KioskError } from '../common/errors.js';
import type { CallSignal, CommandInput } from '../contract/api.js';
import type { CallContext, ServerToKioskMessage } from '../contract/intercom-protocol.js';
import type { KioskConfig } from './config.js';
import {
  flowView,
  type CallScan,
  type CallView,
  type FlowEvent,
  type FlowSnapshot,
} from './flow.js';
import type { Gate } from './gate.js';
import { IntercomClient, type IntercomState, type OpenCommand } from './intercom-client.js';
import { moduleLogger } from './log.js';
import type { KioskStore } from './ports.js';
import { createRemoteOpener, type RemoteOpener } from './remote-open.js';

const log = moduleLogger('call');

/** Where a press of the call button came from, for the log. */
export type CallPressSource = CommandInput<'visitor:call'>['source'] | 'hid';

/** What the call link is built from. */
export interface CallLinkOptions {
  config: KioskConfig;
  gate: Gate;
  audit: Pick<KioskStore, 'appendAudit'>;
  now: () => number;
  /** The visit flow, which the link feeds with call events and reads the current call from. */
  flow: { send(event: FlowEvent): void; snapshot(): FlowSnapshot };
  /** Something the view shows changed outside the flow (the server connection). */
  onChange(): void;
}

type ServerMessage = ServerToKioskMessage;

/** Links the visit flow to the intercom server; one per kiosk. */
export class CallLink {
  private readonly client: IntercomClient | null;
  private readonly opener: RemoteOpener;
  private readonly signalListeners = new Set<(signal: CallSignal) => void>();
  private readonly detach: (() => void)[] = [];
  private lastPressAt = Number.NEGATIVE_INFINITY;
  private lastMediaState = '';
  /** The call the opener currently lets its guard open, mirrored to avoid rebinding it. */
  private openable: { callId: string; guard: string } | null = null;

  constructor(private readonly options: CallLinkOptions) {
    this.opener = createRemoteOpener({
      gate: options.gate,
      audit: options.audit,
      now: options.now,
    });
    this.client = buildClient(options.config);
    if (this.client) this.listen(this.client);
  }

  /** True while the server is connected, so a press can ring the guards. */
  get available(): boolean {
    return this.client?.state === 'connected';
  }

  /** Starts connecting; without an intercom server configured there is nothing to start. */
  start(): void {
    if (!this.client) {
      log.info('start: no intercom server configured, calls show the fallback');
      return;
    }

    this.client.start();
  }

  /** A press of any call button; presses closer than callButton.debounceMs count once. */
  press(source: CallPressSource): void {
    const now = this.options.now();
    if (now - this.lastPressAt < this.options.config.callButton.debounceMs) {
      log.debug({ source }, 'press: within the debounce time, ignored');
      return;
    }

    this.lastPressAt = now;
    log.info({ source, reachable: this.available }, 'press: call requested');
    this.options.flow.send({ type: 'CALL', reachable: this.available });
  }

  /** The flow entered `calling`: ring the guards, telling them what this visit's scan showed. */
  placeCall(scan: CallScan | null): void {
    // No photo yet: the visitor's photo and destination come with walk-in registration (issue 5).
    const context: CallContext = { scan: scan && fitScan(scan), photoJpegBase64: null };

    try {
      this.sendToServer({ type: 'call', context });
      this.auditCall('call.started', 'kiosk', { verdict: scan?.verdict ?? null });
    } catch (error) {
      log.warn({ err: error }, 'call: could not be placed');
      // The flow is still inside the transition that placed the call: tell it once that is done.
      queueMicrotask(() => this.options.flow.send({ type: 'DISCONNECTED' }));
    }
  }

  /** Ends a call on the server: `cancel` while it rings, `hangup` once answered. */
  releaseCall(callId: string, answered: boolean): void {
    const type = answered ? 'hangup' : 'cancel';

    try {
      this.sendToServer({ type, callId });
      this.auditCall(answered ? 'call.hung_up' : 'call.cancelled', 'kiosk', { callId });
    } catch (error) {
      // A server that cannot be reached ends the call itself when the kiosk's connection drops.
      log.warn({ err: error, callId, type }, 'call: could not tell the server');
    }
  }

  /** The renderer's signalling, sent on only for the answered call in progress. */
  signal(input: CallSignal): void {
    const current = this.answeredCallId();
    if (input.callId !== current) {
      const error = new KioskError('conflict', 'call:signal: not the answered call in progress');
      log.warn(
        { err: error, callId: input.callId, current, kind: input.signal.kind },
        'signal: refused',
      );
      return;
    }

    try {
      this.sendToServer({ type: 'signal', callId: input.callId, signal: input.signal });
    } catch (error) {
      log.warn({ err: error, callId: input.callId, kind: input.signal.kind }, 'signal: not sent');
    }
  }

  /** Logs the renderer's peer connection states, once per change. */
  media(input: CommandInput<'call:media'>): void {
    const { callId, iceConnectionState, connectionState } = input;
    const key = `${callId}|${iceConnectionState}|${connectionState}`;
    if (key === this.lastMediaState) return;

    this.lastMediaState = key;
    const current = callId === this.answeredCallId();
    log.info({ callId, current, iceConnectionState, connectionState }, 'media: state changed');
  }

  /** Calls `listener` with the guard's signalling for the call in progress. */
  onSignal(listener: (signal: CallSignal) => void): () => void {
    this.signalListeners.add(listener);
    return () => {
      this.signalListeners.delete(listener);
    };
  }

  /** Keeps the remote opener bound to the answered call the flow is in, and to nothing else. */
  onFlowChange(snapshot: FlowSnapshot): void {
    const holder = openableCall(snapshot);
    if (holder && holder.callId !== this.openable?.callId) {
      this.opener.activeCall(holder.callId, holder.guard);
      this.openable = holder;
    } else if (!holder && this.openable) {
      this.opener.endCall();
      this.openable = null;
    }
  }

  async close(): Promise<void> {
    for (const detach of this.detach.splice(0)) detach();
    this.signalListeners.clear();
    this.opener.endCall();
    await this.client?.close();
  }

  private listen(client: IntercomClient): void {
    const onState = (state: IntercomState) => this.onConnection(state);
    client.on('state', onState);
    this.detach.push(
      () => client.off('state', onState),
      client.onMessage((message) => this.onServerMessage(message)),
    );
    client.onOpenCommand((command) => void this.open(command));
  }

  private onConnection(state: IntercomState): void {
    if (state !== 'connected') this.options.flow.send({ type: 'DISCONNECTED' });
    this.options.onChange();
  }

  private onServerMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'ringing':
        log.info({ callId: message.callId }, 'call: ringing');
        return this.toFlow({ ...message, type: 'RINGING' });
      case 'answered':
        this.auditCall('call.answered', `guard:${message.guard}`, { callId: message.callId });
        return this.toFlow({ ...message, type: 'ANSWERED' });
      case 'ending-soon':
        return this.toFlow({ ...message, type: 'ENDING_SOON' });
      case 'missed':
        this.auditCall('call.missed', 'kiosk', { callId: message.callId });
        return this.toFlow({ ...message, type: 'MISSED' });
      case 'denied':
        this.auditCall('call.denied', this.guardActor(message.callId), { callId: message.callId });
        return this.toFlow({ ...message, type: 'DENIED' });
      case 'ended':
        this.auditCall('call.ended', 'kiosk', { callId: message.callId, reason: message.reason });
        return this.toFlow({ ...message, type: 'ENDED' });
      case 'signal':
        return this.fromGuard({ callId: message.callId, signal: message.signal });
      case 'refused':
        return this.onRefused(message);
      // The client answers these itself, logs server errors, and hands open to the opener alone.
      case 'welcome':
      case 'pong':
      case 'error':
      case 'open':
        return;
    }
  }

  private toFlow(event: FlowEvent): void {
    this.options.flow.send(event);
  }

  private onRefused(message: Extract<ServerMessage, { type: 'refused' }>): void {
    const { request, callId, code } = message;
    log.warn({ request, callId, code }, 'server: refused a message');
    if (request !== 'call') return;

    this.auditCall('call.refused', 'kiosk', { code });
    this.toFlow({ type: 'REFUSED', code });
  }

  private fromGuard(signal: CallSignal): void {
    const current = this.answeredCallId();
    if (signal.callId !== current) {
      log.warn({ callId: signal.callId, current, kind: signal.signal.kind }, 'signal: dropped');
      return;
    }

    for (const listener of this.signalListeners) {
      try {
        listener(signal);
      } catch (error) {
        log.error({ err: error }, 'signal: a listener failed');
      }
    }
  }

  /** Only the core's remote opener decides; an opening it allows shows the opened screen. */
  private async open(command: OpenCommand): Promise<void> {
    const result = await this.opener.open(command);
    if (result.opened) this.toFlow({ type: 'OPENED', callId: command.callId });
  }

  private answeredCallId(): string | null {
    const call = currentCall(this.options.flow.snapshot());
    return call?.guard != null && call.endReason === null ? call.callId : null;
  }

  private guardActor(callId: string): string {
    const guard = this.openable?.callId === callId ? this.openable.guard : null;
    return guard ? `guard:${guard}` : 'guard';
  }

  private sendToServer(message: Parameters<IntercomClient['send']>[0]): void {
    if (!this.client) throw new KioskError('disconnected', 'no intercom server is configured');

    this.client.send(message);
  }

  private auditCall(action: string, actor: string, detail: Record<string, unknown>): void {
    try {
      this.options.audit.appendAudit({ at: this.options.now(), action, actor, detail });
    } catch (error) {
      log.error({ err: error, action }, 'audit: write failed');
    }
  }
}

function buildClient(config: KioskConfig): IntercomClient | null {
  const intercom = config.intercom;
  if (!intercom) return null;

  return new IntercomClient({
    url: intercom.url,
    kioskId: intercom.kioskId,
    secret: intercom.secret,
    reconnectMinMs: intercom.reconnectMinMs,
    reconnectMaxMs: intercom.reconnectMaxMs,
  });
}

function currentCall(snapshot: FlowSnapshot): CallView | null {
  return flowView(snapshot).call;
}

/** The answered call a guard may open for now: the flow is in it and it has not ended. */
function openableCall(snapshot: FlowSnapshot): { callId: string; guard: string } | null {
  const screen = snapshot.value;
  const call = currentCall(snapshot);
  if (screen !== 'inCall' && screen !== 'callOpened') return null;
  if (!call?.callId || !call.guard || call.endReason !== null) return null;

  return { callId: call.callId, guard: call.guard };
}

/** Keeps a scan within the protocol's limits, so a long pass field cannot stop the call. */
function fitScan(scan: CallScan): CallScan {
  return {
    verdict: scan.verdict,
    reason: scan.reason?.slice(0, 32) ?? null,
    maskedName: scan.maskedName?.slice(0, 64) ?? null,
    destination: scan.destination?.slice(0, 128) ?? null,
  };
}
