/**
 * Passes: Ed25519-signed JWTs (compact JWS, alg EdDSA) that a site issues and a kiosk verifies
 * offline from the raw scanned text. Verification never throws for bad input; it returns a
 * verdict whose reason the screen translates for the visitor.
 */
import {
  calculateJwkThumbprint,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { z } from 'zod';
import { KioskError } from '../common/errors.js';
import { maskName } from '../common/mask.js';
import type { RefusalReason } from '../contract/api.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('passes');

/**
 * Longest pass text accepted: a version 40 QR code holds at most 2953 bytes in byte mode, so
 * anything longer cannot have come from a genuine pass code.
 */
export const maxPassTextLength = 2953;

/** What a pass grants, in the terms the kiosk uses. Times are epoch seconds. */
export interface PassClaims {
  passId: string;
  site: string;
  gates: string[];
  notBefore: number;
  expires: number;
  /** Entries the pass allows, at least 1. */
  entries: number;
  hostUnit: string;
  maskedName: string;
}

/** The verifier's decision on one scan. */
export type PassVerdict =
  | { ok: true; pass: PassClaims; entriesLeft: number }
  | {
      ok: false;
      reason: RefusalReason;
      detail: string;
      /** The genuine pass behind a refusal (expired, used up …), so its record names it. */
      pass?: PassClaims;
    };

/** A site's signing key pair; `kid` is the RFC 7638 thumbprint of the public key. */
export interface SiteKeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
}

/** What the verifier needs besides the scanned text. */
export interface VerifyContext {
  /** Public JWKs the site signs with (config.passes.publicKeys); several allow key rotation. */
  publicKeys: readonly object[];
  site: string;
  gate: string;
  /** Epoch milliseconds. */
  now: number;
  clockSkewSeconds: number;
  usesOf(passId: string): number;
}

const algorithm = 'EdDSA';
const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');
const epochSeconds = z.number().int().nonnegative();
const shortText = z.string().min(1).max(128);

const PassClaimsSchema = z
  .strictObject({
    passId: z.string().min(1).max(64),
    site: shortText,
    gates: z.array(shortText).min(1).max(32),
    notBefore: epochSeconds,
    expires: epochSeconds,
    entries: z.number().int().min(1).max(10_000),
    hostUnit: z.string().max(128),
    maskedName: z.string().max(64),
  })
  .refine((claims) => claims.expires > claims.notBefore, 'expires must be after notBefore');

/** The JWT payload on the wire: registered claims where they fit, short names for our own. */
const PayloadSchema = z
  .object({
    jti: z.string().min(1).max(64),
    iat: epochSeconds.optional(),
    nbf: epochSeconds,
    exp: epochSeconds,
    site: shortText,
    gates: z.array(shortText).min(1).max(32),
    entries: z.number().int().min(1).max(10_000),
    unit: z.string().max(128),
    name: z.string().max(64),
  })
  .refine((payload) => payload.exp > payload.nbf, 'exp must be after nbf');

type Payload = z.infer<typeof PayloadSchema>;

const PublicJwkSchema = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: base64url,
  kid: z.string().optional(),
});

type PublicJwk = z.infer<typeof PublicJwkSchema>;

/** Creates a new Ed25519 signing key pair for a site. */
export async function generateSiteKeys(): Promise<SiteKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, {
    crv: 'Ed25519',
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);

  return { privateJwk: { ...privateJwk, kid }, publicJwk: { ...publicJwk, kid }, kid };
}

/** Signs a pass; the header names the key by its thumbprint so kiosks can pick it after rotation. */
export async function issuePass(privateJwk: JWK, claims: PassClaims): Promise<string> {
  const checked = PassClaimsSchema.safeParse(claims);
  if (!checked.success) {
    throw new KioskError(
      'bad_payload',
      `pass claims are invalid: ${describeIssues(checked.error)}`,
    );
  }

  const { key, kid } = await importSigningKey(privateJwk);
  const text = await new SignJWT(toPayload(checked.data))
    .setProtectedHeader({ alg: algorithm, kid, typ: 'JWT' })
    .setJti(checked.data.passId)
    .setIssuedAt()
    .sign(key);

  if (text.length > maxPassTextLength) {
    throw new KioskError(
      'bad_payload',
      `pass is ${text.length} characters, more than a QR code holds`,
    );
  }
  log.info({ passId: checked.data.passId, kid }, 'issue: pass signed');
  return text;
}

/** Decides whether the raw scanned text is a pass that admits at this gate now. */
export async function verifyPass(text: string, ctx: VerifyContext): Promise<PassVerdict> {
  const verdict = await decide(text, ctx);

  if (verdict.ok) {
    log.info({ passId: verdict.pass.passId, entriesLeft: verdict.entriesLeft }, 'verify: accepted');
  } else {
    log.info({ reason: verdict.reason, detail: verdict.detail }, 'verify: refused');
  }
  return verdict;
}

async function decide(text: string, ctx: VerifyContext): Promise<PassVerdict> {
  const shape = checkShape(text);
  if (typeof shape !== 'string') return shape;

  const signed = await checkSignature(shape, ctx.publicKeys);
  if (!signed.ok) return signed;

  const payload = parsePayload(signed.payload);
  if (!payload) return refuse('not_a_pass', 'signed payload is not a pass');

  return checkGrant(payload, ctx);
}

/**
 * Scanners end a code with CR, LF or Tab, and a compact JWS never contains those, so only such a
 * trailing run is dropped; everything else must already be base64url segments.
 */
function checkShape(raw: unknown): string | PassVerdict {
  if (typeof raw !== 'string') return refuse('not_a_pass', 'scan is not text');

  const text = withoutScannerSuffix(raw);
  if (text.length > maxPassTextLength) {
    return refuse('not_a_pass', `oversized: ${text.length} characters`);
  }

  // The signature may be empty so that an unsigned ('none') token is reported as forged.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text)) {
    return refuse('not_a_pass', 'not a compact JWS');
  }
  return text;
}

// A loop rather than a regex: /[\r\n]+$/ backtracks quadratically on long runs of newlines.
function withoutScannerSuffix(raw: string): string {
  let end = raw.length;
  while (end > 0 && '\r\n\t'.includes(raw.charAt(end - 1))) end -= 1;
  return raw.slice(0, end);
}

type SignatureCheck = { ok: true; payload: Uint8Array } | (PassVerdict & { ok: false });

async function checkSignature(
  text: string,
  publicKeys: readonly object[],
): Promise<SignatureCheck> {
  const header = readHeader(text);
  if (!header) return refuse('not_a_pass', 'header is not JSON');
  if (header.alg !== algorithm) {
    return refuse('forged', `algorithm ${String(header.alg)} is not accepted`);
  }

  const candidates = await keysFor(header.kid, publicKeys);
  if (candidates.length === 0) {
    return refuse('forged', `no configured key has id ${String(header.kid)}`);
  }

  for (const jwk of candidates) {
    const payload = await verifyWith(text, jwk);
    if (payload) return { ok: true, payload };
  }
  return refuse('forged', 'signature matches no configured key');
}

function readHeader(text: string): { alg?: unknown; kid?: unknown } | undefined {
  try {
    return decodeProtectedHeader(text);
  } catch {
    return undefined;
  }
}

/** Keys named by the header's kid (by their own kid or their thumbprint); all keys without one. */
async function keysFor(kid: unknown, publicKeys: readonly object[]): Promise<PublicJwk[]> {
  const usable = publicKeys.flatMap((key) => {
    const parsed = PublicJwkSchema.safeParse(key);
    return parsed.success ? [parsed.data] : [];
  });
  const ignored = publicKeys.length - usable.length;
  if (ignored > 0) log.warn({ ignored }, 'verify: keys that are not Ed25519 public JWKs ignored');
  if (kid === undefined) return usable;

  const matches = await Promise.all(
    usable.map(async (jwk) => jwk.kid === kid || (await thumbprint(jwk)) === kid),
  );
  return usable.filter((_, index) => matches[index]);
}

async function verifyWith(text: string, jwk: PublicJwk): Promise<Uint8Array | undefined> {
  try {
    // Only the public members are imported, so a private JWK pasted by mistake still works as a
    // public key and never as a signing key.
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, algorithm);
    const result = await compactVerify(text, key, { algorithms: [algorithm] });
    return result.payload;
  } catch {
    return undefined;
  }
}

function parsePayload(bytes: Uint8Array): Payload | undefined {
  try {
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    const parsed = PayloadSchema.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function checkGrant(payload: Payload, ctx: VerifyContext): PassVerdict {
  const nowSeconds = Math.floor(ctx.now / 1000);
  const skew = ctx.clockSkewSeconds;
  // The signature held, so a refusal still names the pass: its record shows whose pass it was.
  const refuse = (reason: RefusalReason, detail: string): PassVerdict => ({
    ok: false,
    reason,
    detail,
    pass: fromPayload(payload),
  });

  if (payload.site !== ctx.site) return refuse('wrong_site', `pass is for site ${payload.site}`);
  if (nowSeconds > payload.exp + skew) return refuse('expired', `expired at ${iso(payload.exp)}`);
  if (nowSeconds < payload.nbf - skew) {
    return refuse('not_yet_valid', `valid from ${iso(payload.nbf)}`);
  }
  if (!payload.gates.includes(ctx.gate)) {
    return refuse('wrong_gate', `pass is for ${payload.gates.join(', ')}`);
  }

  const used = ctx.usesOf(payload.jti);
  if (used >= payload.entries) {
    return refuse('used_up', `${used} of ${payload.entries} entries used`);
  }

  return { ok: true, pass: fromPayload(payload), entriesLeft: payload.entries - used };
}

function toPayload(claims: PassClaims): Record<string, unknown> {
  return {
    nbf: claims.notBefore,
    exp: claims.expires,
    site: claims.site,
    gates: claims.gates,
    entries: claims.entries,
    unit: claims.hostUnit,
    name: maskName(claims.maskedName),
  };
}

function fromPayload(payload: Payload): PassClaims {
  return {
    passId: payload.jti,
    site: payload.site,
    gates: payload.gates,
    notBefore: payload.nbf,
    expires: payload.exp,
    entries: payload.entries,
    hostUnit: payload.unit,
    maskedName: maskName(payload.name),
  };
}

async function importSigningKey(
  privateJwk: JWK,
): Promise<{ key: CryptoKey | Uint8Array; kid: string }> {
  const { kty, crv, x, d } = privateJwk;
  if (kty !== 'OKP' || crv !== 'Ed25519' || !x || !d) {
    throw new KioskError('bad_payload', 'signing key is not an Ed25519 private JWK');
  }

  try {
    const key = await importJWK({ kty, crv, x, d }, algorithm);
    return { key, kid: await thumbprint({ kty, crv, x }) };
  } catch (cause) {
    throw new KioskError('bad_payload', 'signing key cannot be imported', { cause });
  }
}

function thumbprint(jwk: { kty: string; crv: string; x: string }): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
}

function refuse(reason: RefusalReason, detail: string): PassVerdict & { ok: false } {
  return { ok: false, reason, detail };
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(claims)'}: ${issue.message}`)
    .join('; ');
}
