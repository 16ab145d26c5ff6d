/**
 * The intercom server's configuration file. Every field has a default that gives a server on
 * loopback with a plain store; a production file sets a store key, TURN and a host to listen on.
 * A bad file is refused as a whole with a message naming each wrong field.
 */
import { z } from 'zod';
import { loadJsonConfig, parseWithSchema } from '../app/core/config-file.js';

const LoginThrottleSchema = z.strictObject({
  /**
   * Failures allowed per guard name from one address before delays start there: guessing one
   * password stays slow, and a stranger's wrong passwords do not lock the guard out elsewhere.
   */
  freeFailures: z.number().int().min(1).max(100).default(5),
  /**
   * Failures allowed per guard name from all addresses together, counted until the name has been
   * quiet for an hour, before delays start for addresses the name has not logged in from. Ten
   * times `freeFailures`: only guessing spread over many addresses reaches it.
   */
  freeFailuresPerName: z.number().int().min(1).max(10_000).default(50),
  /**
   * Failures allowed per remote address before delays start for names that have not logged in
   * from it before. Much looser than per name, since behind a reverse proxy or a NAT every guard
   * shares one address; see `trustProxy` for seeing the guards' own addresses instead.
   */
  freeFailuresPerAddress: z.number().int().min(1).max(10_000).default(50),
  /** The first delay; each further failure doubles it. */
  baseDelaySeconds: z.number().min(0.1).max(60).default(1),
  maxDelaySeconds: z.number().int().min(1).max(86_400).default(900),
});

// proxy-addr's names for the loopback, link-local and private ranges, or one address or range.
const ProxyAddressSchema = z.union([
  z.enum(['loopback', 'linklocal', 'uniquelocal']),
  z.ipv4(),
  z.ipv6(),
  z.cidrv4(),
  z.cidrv6(),
]);

const KiosksSchema = z.strictObject({
  /** A kiosk must say hello within this many seconds of connecting. */
  helloSeconds: z.number().min(0.1).max(60).default(5),
  /** The server pings every kiosk this often; a kiosk that misses two pings is offline. */
  heartbeatSeconds: z.number().min(0.1).max(300).default(15),
  /**
   * Messages above this are answered with an error and not parsed. A kiosk's `call` carries a
   * snapshot photo of up to 96 KiB of base64, so the default leaves room for it.
   */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(128 * 1024),
  /** Bad messages a connection may send before it is closed. */
  maxBadMessages: z.number().int().min(1).max(1000).default(10),
});

const IceSchema = z.strictObject({
  stunUrls: z
    .array(z.string().regex(/^stuns?:/, 'a STUN url starts with stun: or stuns:'))
    .default([]),
  turnUrls: z
    .array(z.string().regex(/^turns?:/, 'a TURN url starts with turn: or turns:'))
    .default([]),
  /** coturn's static-auth-secret (use-auth-secret); needed when TURN urls are given. */
  turnSecret: z.string().min(16).optional(),
  /** Lifetime of handed-out TURN credentials; short, since a credential cannot be revoked. */
  turnTtlSeconds: z.number().int().min(60).max(86_400).default(600),
  /** `relay` sends every packet of a call through TURN, for sites whose firewall allows no more. */
  transportPolicy: z.enum(['all', 'relay']).default('all'),
});

const CallsSchema = z.strictObject({
  /** A call nobody answers within this becomes a missed call. */
  ringTimeoutSeconds: z.number().min(0.1).max(600).default(30),
  /** An answered call ends after this, so a forgotten call does not hold the kiosk. */
  maxCallSeconds: z.number().min(1).max(3600).default(180),
  /** Kiosk and guard are warned this long before the maximum call time ends the call. */
  warnBeforeEndSeconds: z.number().min(0).max(600).default(10),
});

const gateIdSchema = z.string().min(1).max(128);

const PassesSchema = z.strictObject({
  /** The site id passes name; it must equal `site` in the kiosks' configuration. */
  site: z.string().min(1).max(128),
  /**
   * The site's Ed25519 private JWK (`kiosk pass keygen`); a relative path is taken from the
   * config file's folder. Anyone who can read it can sign passes for the whole site.
   */
  privateKeyFile: z.string().min(1),
  /**
   * Gates a pass opens when the guard names none; each must be a kiosk's `gate`. The default is
   * the demo kiosk's gate.
   */
  gates: z.array(gateIdSchema).min(1).max(32).default(['main-gate']),
});

export const ServerConfigSchema = z
  .strictObject({
    /** Address to listen on; loopback unless a reverse proxy or the LAN must reach it. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 lets the OS choose a free port. */
    port: z.number().int().min(0).max(65_535).default(8780),
    /**
     * Whom to believe about the client's address in X-Forwarded-For, so login throttling, logs
     * and the audit see each guard's own address rather than the reverse proxy's. `false` (the
     * default): the peer is the client. A list of proxy addresses or ranges (`loopback`,
     * `uniquelocal`, `10.0.0.0/8`, ...): trust those hops; the safe choice behind a proxy. A
     * number: trust that many hops nearest the server. `true`: trust every hop; only when nothing
     * but the proxy can reach the server, or anyone can pick the address they are throttled by.
     */
    trustProxy: z
      .union([
        z.boolean(),
        z.number().int().min(1).max(10),
        z.array(ProxyAddressSchema).min(1).max(64),
      ])
      .default(false),
    /** Where the store lives; a relative path is taken from the config file's folder. */
    dataDir: z.string().default('.intercom'),
    /**
     * Encrypts the store at rest (SQLCipher) when set. Optional because the server usually runs on
     * a machine the site controls with disk encryption; set it when the disk is not encrypted.
     */
    storeKey: z.string().min(16).optional(),
    sessionHours: z
      .number()
      .min(0.01)
      .max(24 * 30)
      .default(12),
    /** Marks the session cookie Secure; set it whenever the console is served over HTTPS. */
    secureCookie: z.boolean().default(false),
    loginThrottle: LoginThrottleSchema.prefault({}),
    kiosks: KiosksSchema.prefault({}),
    ice: IceSchema.prefault({}),
    calls: CallsSchema.prefault({}),
    /** Pass issuing from the console; without it, issuing answers `not_configured`. */
    passes: PassesSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.ice.turnUrls.length > 0 && !config.ice.turnSecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['ice', 'turnSecret'],
        message: 'TURN urls are set, so the shared secret of the TURN server is needed',
      });
    }
    if (config.ice.transportPolicy === 'relay' && config.ice.turnUrls.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ice', 'transportPolicy'],
        message: 'relay sends every packet through TURN, so TURN urls are needed',
      });
    }
    if (config.calls.warnBeforeEndSeconds >= config.calls.maxCallSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['calls', 'warnBeforeEndSeconds'],
        message: 'the warning must come before the maximum call time ends the call',
      });
    }
  });

export type ServerConfig = z.infer<typeof ServerConfigSchema>;

/** Validates a parsed configuration; the error message lists every wrong field by its path. */
export function parseServerConfig(raw: unknown, source = 'server configuration'): ServerConfig {
  return parseWithSchema(ServerConfigSchema, raw, source);
}

/** Reads and validates a JSON server configuration file. */
export function loadServerConfigFile(path: string): ServerConfig {
  return loadJsonConfig(path, parseServerConfig);
}
