/**
 * A small site for call tests over real WebSockets: a listening server on a scratch store with
 * guards `anna` and `ben` in the ring group `gate` of kiosks `north-1` and `south-1`, guard `carl`
 * in the ring group `back` of kiosk `back-1`, and ws clients that keep what the server sends until
 * a test takes it.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, type ClientOptions } from 'ws';
import { startServer, type RunningServer, type ServerOptions } from '../app.js';
import { parseServerConfig } from '../config.js';
import { guardChannelPath, kioskChannelPath } from '../../app/contract/intercom-protocol.js';
import { openServerStore, type ServerStore } from '../store.js';
import { adminName, adminPassword, login } from './fixtures.js';

/** A message as a test reads it. */
export type Message = { type: string } & Record<string, unknown>;

/** A real ws client on loopback that keeps what the server sends until a test takes it. */
export interface Client {
  socket: WebSocket;
  /** Resolves with the close code once the server (or the client) closed the connection. */
  closed: Promise<number>;
  send(message: Record<string, unknown>): void;
  /** The next not yet taken message of `type` (and matching `where`); rejects after 3 s. */
  take(type: string, where?: (message: Message) => boolean): Promise<Message>;
  /** Every message received and not yet taken. */
  pending(): Message[];
  /** A ping/pong round trip: everything the server sent before it has arrived. */
  sync(): Promise<void>;
}

/** The passwords of the site's guards. */
export const guardPasswords: Readonly<Record<string, string>> = {
  anna: 'anna password 1',
  ben: 'ben password 22',
  carl: 'carl password 333',
};

/** A running site and how to reach it. */
export interface CallSite {
  running: RunningServer;
  store: ServerStore;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  /** The store's folder; a restarted server opens the same file. */
  folder: string;
  secrets: Record<string, string>;
  cookies: Record<string, string>;
  /** Every client the site opened; `close` terminates them. */
  clients: Client[];
  /** A kiosk that said hello and was welcomed. */
  kiosk: (kioskId: string, options?: ClientOptions) => Promise<Client>;
  /** A logged-in guard's console that was welcomed. */
  guard: (name: string) => Promise<Client>;
  /** Stops the server and closes the store, keeping the folder. */
  stop: () => Promise<void>;
  /** Stops everything and deletes the folder. */
  close: () => Promise<void>;
}

/** What a site is started with besides its configuration. */
export type CallSiteOptions = Omit<ServerOptions, 'store' | 'config'> & {
  /** A stopped site whose store (and kiosk secrets) the new server takes over. */
  restartOf?: CallSite;
};

/** Starts a site; `raw` is merged into the server configuration. */
export async function startCallSite(
  raw: Record<string, unknown> = {},
  options: CallSiteOptions = {},
): Promise<CallSite> {
  const { restartOf, ...serverOptions } = options;
  const folder = restartOf?.folder ?? (await mkdtemp(join(tmpdir(), 'intercom-site-')));
  const store = openServerStore({ file: join(folder, 'intercom.db') });
  const config = parseServerConfig({ port: 0, ...raw });
  const running = await startServer({ ...serverOptions, store, config });
  const secrets = restartOf?.secrets ?? (await populate(running));
  const cookies = await loginAll(running);

  const clients: Client[] = [];
  const wsUrl = running.url.replace('http', 'ws');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const client of clients) client.socket.terminate();
    await running.close();
    store.close();
  };

  return {
    running,
    store,
    wsUrl,
    folder,
    secrets,
    cookies,
    clients,
    kiosk: async (kioskId, clientOptions) => {
      const client = await connectClient(`${wsUrl}${kioskChannelPath}`, clientOptions);
      clients.push(client);
      client.send({ type: 'hello', kioskId, secret: secrets[kioskId] ?? 'unknown' });
      await client.take('welcome');
      return client;
    },
    guard: async (name) => {
      const client = await connectClient(`${wsUrl}${guardChannelPath}`, {
        headers: { cookie: cookies[name] ?? '' },
      });
      clients.push(client);
      await client.take('welcome');
      return client;
    },
    stop,
    close: async () => {
      await stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Creates the accounts, ring groups and kiosks; returns the kiosks' secrets. */
async function populate(running: RunningServer): Promise<Record<string, string>> {
  const { auth, store } = running.app.intercom;
  await auth.createGuard(adminName, adminPassword, 'admin', 'test');
  const anna = await auth.createGuard('anna', guardPasswords.anna ?? '', 'guard', 'test');
  const ben = await auth.createGuard('ben', guardPasswords.ben ?? '', 'guard', 'test');
  const carl = await auth.createGuard('carl', guardPasswords.carl ?? '', 'guard', 'test');
  store.saveRingGroup({ id: 'gate', name: 'Gate', guardIds: [anna.id, ben.id] });
  store.saveRingGroup({ id: 'back', name: 'Back', guardIds: [carl.id] });

  const enrol = (id: string, name: string, ringGroup: string) =>
    auth.enrolKiosk({ id, name, ringGroup }, 'test').secret;
  return {
    'north-1': enrol('north-1', 'North gate', 'gate'),
    'south-1': enrol('south-1', 'South gate', 'gate'),
    'back-1': enrol('back-1', 'Back gate', 'back'),
  };
}

/** Session cookies of the admin and every guard. */
async function loginAll(running: RunningServer): Promise<Record<string, string>> {
  const cookies: Record<string, string> = {
    [adminName]: await login(running.app, adminName, adminPassword),
  };
  for (const [name, password] of Object.entries(guardPasswords)) {
    cookies[name] = await login(running.app, name, password);
  }
  return cookies;
}

/** Opens a ws client that queues every message until a test takes it. */
export async function connectClient(url: string, options: ClientOptions = {}): Promise<Client> {
  const socket = new WebSocket(url, options);
  const inbox: Message[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    inbox.push(JSON.parse(data.toString()) as Message);
    for (const wake of [...waiters]) wake();
  });
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  await once(socket, 'open');

  const take = (type: string, where: (message: Message) => boolean = () => true) =>
    new Promise<Message>((resolve, reject) => {
      const check = () => {
        const index = inbox.findIndex((message) => message.type === type && where(message));
        if (index < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(inbox.splice(index, 1)[0]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${type} in ${JSON.stringify(inbox).slice(0, 2000)}`));
      }, 3000);
      waiters.add(check);
      check();
    });
  let pings = 0;
  const client: Client = {
    socket,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    take,
    pending: () => [...inbox],
    sync: async () => {
      const id = ++pings;
      client.send({ type: 'ping', id });
      await take('pong', (message) => message.id === id);
    },
  };
  return client;
}

/** Every message of `type` the client received and no test took, once a round trip shows all arrived. */
export async function untaken(client: Client, type: string): Promise<Message[]> {
  await client.sync();
  return client.pending().filter((message) => message.type === type);
}
