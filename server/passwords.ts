/**
 * Guard passwords, hashed with scrypt. The stored string carries its own parameters and salt
 * (`scrypt$N$r$p$salt$hash`, base64url), so the cost can be raised later without breaking the
 * passwords already stored: old strings keep verifying with the parameters they name.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { KioskError } from '../app/common/errors.js';

/** scrypt cost parameters; N = 2^15 with r = 8 takes about 32 MB and 0.1 s per hash. */
export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/** What new passwords are hashed with. */
export const defaultParameters: ScryptParameters = { N: 2 ** 15, r: 8, p: 1 };

const keyLength = 32;
const saltLength = 16;

/** Hashes `password` with a fresh random salt; the result is safe to store. */
export async function hashPassword(
  password: string,
  parameters: ScryptParameters = defaultParameters,
): Promise<string> {
  const salt = randomBytes(saltLength);
  const hash = await derive(password, salt, parameters);

  const { N, r, p } = parameters;
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; compares in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStored(stored);
  const candidate = await derive(password, parsed.salt, parsed.parameters);

  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** True when `stored` was hashed with weaker parameters than new passwords get. */
export function needsRehash(stored: string, parameters = defaultParameters): boolean {
  const current = parseStored(stored).parameters;

  return current.N < parameters.N || current.r < parameters.r || current.p < parameters.p;
}

function parseStored(stored: string): { parameters: ScryptParameters; salt: Buffer; hash: Buffer } {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  const parameters = { N: Number(N), r: Number(r), p: Number(p) };
  const numbersValid = Object.values(parameters).every((n) => Number.isInteger(n) && n > 0);
  if (scheme !== 'scrypt' || !numbersValid || !salt || !hash) {
    throw new KioskError('store_failed', 'a stored password hash is not in the scrypt format');
  }

  return {
    parameters,
    salt: Buffer.from(salt, 'base64url'),
    hash: Buffer.from(hash, 'base64url'),
  };
}

function derive(password: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  // Node refuses N = 2^15 with r = 8 under its default 32 MB limit: leave headroom.
  const options: ScryptOptions = { ...parameters, maxmem: 256 * parameters.N * parameters.r };

  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => {
      if (error) reject(new KioskError('internal', `scrypt failed: ${error.message}`));
      else resolve(key);
    });
  });
}
