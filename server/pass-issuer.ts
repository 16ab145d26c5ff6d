/**
 * Visitor passes issued from the guard console: the kiosk's own pass format (app/core/passes.ts),
 * signed with the site's private key named in the server configuration, so kiosks of that site
 * verify them offline like any other pass. Every issued pass is audited with its id and host
 * unit; the token itself is shown to the guard once and never stored or logged.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { KioskError } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { issuePass } from '../app/core/passes.js';
import type { ServerConfig } from './config.js';
import type { Guard, ServerStore } from './store.js';

const log = moduleLogger('pass-issuer');

/** The body of `POST /api/passes`. */
export const PassRequestSchema = z.strictObject({
  visitorName: z.string().trim().min(1, 'the visitor’s name is needed').max(64),
  hostUnit: z.string().trim().min(1, 'the host unit is needed').max(128),
  validHours: z.number().int().min(1).max(720).default(24),
  entries: z.number().int().min(1).max(50).default(1),
  /** One gate the pass opens; without it, the configured gates. */
  gate: z.string().min(1).max(128).optional(),
});
export type PassRequest = z.infer<typeof PassRequestSchema>;

/** An issued pass: the token is the QR code's text. */
export interface IssuedPass {
  passId: string;
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** The site key and the pass settings it signs with. */
export interface PassSigner {
  site: string;
  gates: string[];
  privateJwk: JWK;
}

/**
 * Reads and checks the site's private key named by `passes.privateKeyFile` (relative to
 * `baseDir`); undefined when pass issuing is not configured. A missing or wrong key stops the
 * server at start rather than failing the first guard who tries.
 */
export async function loadPassSigner(
  passes: ServerConfig['passes'],
  baseDir: string,
): Promise<PassSigner | undefined> {
  if (!passes) return undefined;

  const file = resolve(baseDir, passes.privateKeyFile);
  const jwk = readKeyFile(file);
  try {
    await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, 'EdDSA');
  } catch (cause) {
    throw new KioskError('config_invalid', `passes.privateKeyFile: ${file} cannot be used`, {
      cause,
    });
  }

  log.info({ site: passes.site, gates: passes.gates }, 'load: pass issuing ready');
  return { site: passes.site, gates: passes.gates, privateJwk: jwk };
}

function readKeyFile(file: string): JWK {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new KioskError(
      'config_invalid',
      `passes.privateKeyFile: cannot read ${file} (${reason})`,
      {
        cause,
      },
    );
  }

  const { kty, crv, d } = jwk ?? {};
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof d !== 'string') {
    throw new KioskError(
      'config_invalid',
      `passes.privateKeyFile: ${file} is not an Ed25519 private key (use site-private.jwk.json from kiosk pass keygen)`,
    );
  }
  return jwk;
}

/** What the issuer needs. */
export interface PassIssuerOptions {
  signer: PassSigner;
  store: Pick<ServerStore, 'appendAudit'>;
  now: () => number;
}

/** Issues passes on behalf of logged-in guards. */
export class PassIssuer {
  readonly #signer: PassSigner;
  readonly #store: PassIssuerOptions['store'];
  readonly #now: () => number;

  constructor(options: PassIssuerOptions) {
    this.#signer = options.signer;
    this.#store = options.store;
    this.#now = options.now;
  }

  /** Signs a pass valid from now for `validHours`; refuses a gate the site does not list. */
  async issue(request: PassRequest, guard: Guard): Promise<IssuedPass> {
    const gates = this.#gatesFor(request.gate);
    const now = this.#now();
    const notBefore = Math.floor(now / 1000);
    const expires = notBefore + request.validHours * 3600;
    const passId = randomBytes(12).toString('base64url');

    const token = await issuePass(this.#signer.privateJwk, {
      passId,
      site: this.#signer.site,
      gates,
      notBefore,
      expires,
      entries: request.entries,
      hostUnit: request.hostUnit,
      maskedName: request.visitorName,
    });

    this.#store.appendAudit({
      at: now,
      action: 'pass.issued',
      actor: `guard:${guard.name}`,
      detail: { passId, hostUnit: request.hostUnit, gates, entries: request.entries, expires },
    });
    log.info({ passId, guardId: guard.id, gates }, 'issue: pass issued');
    return { passId, token, expiresAt: expires * 1000 };
  }

  #gatesFor(gate: string | undefined): string[] {
    if (gate === undefined) return this.#signer.gates;
    if (this.#signer.gates.includes(gate)) return [gate];

    throw new KioskError(
      'bad_payload',
      `gate: ${gate} is not a gate of this site (${this.#signer.gates.join(', ')})`,
    );
  }
}
