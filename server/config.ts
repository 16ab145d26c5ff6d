/**
 * The intercom server's configuration file. Every field has a default that gives a server on
 * loopback with a plain store; a production file sets a store key, TURN and a host to listen on.
 * A bad file is refused as a whole with a message naming each wrong field.
 */
import { z } from 'zod';
import { loadJsonConfig, parseWithSchema } from '../app/core/config-file.js';

const LoginThrottleSchema = z.strictObject({
  /** Failures allowed per guard name and per remote address before delays start. */
  freeFailures: z.number().int().min(1).max(100).default(5),
  /** The first delay; each further failure doubles it. */
  baseDelaySeconds: z.number().min(0.1).max(60).default(1),
  maxDelaySeconds: z.number().int().min(1).max(86_400).default(900),
});

const KiosksSchema = z.strictObject({
  /** A kiosk must say hello within this many seconds of connecting. */
  helloSeconds: z.number().min(0.1).max(60).default(5),
  /** The server pings every kiosk this often; a kiosk that misses two pings is offline. */
  heartbeatSeconds: z.number().min(0.1).max(300).default(15),
  /** Messages above this are answered with an error and not parsed. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(64 * 1024),
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
});

export const ServerConfigSchema = z
  .strictObject({
    /** Address to listen on; loopback unless a reverse proxy or the LAN must reach it. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 lets the OS choose a free port. */
    port: z.number().int().min(0).max(65_535).default(8780),
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
  })
  .superRefine((config, ctx) => {
    if (config.ice.turnUrls.length > 0 && !config.ice.turnSecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['ice', 'turnSecret'],
        message: 'TURN urls are set, so the shared secret of the TURN server is needed',
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
