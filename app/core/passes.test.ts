import { randomBytes } from 'node:crypto';
import { CompactSign, importJWK, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../common/errors.js';
import {
  generateSiteKeys,
  issuePass,
  maxPassTextLength,
  verifyPass,
  type PassClaims,
  type PassVerdict,
  type SiteKeyPair,
  type VerifyContext,
} from './passes.js';

const start = 1_750_000_000;
const hour = 3600;

function claims(overrides: Partial<PassClaims> = {}): PassClaims {
  return {
    passId: 'pass-0001',
    site: 'north-park',
    gates: ['main-gate', 'east-gate'],
    notBefore: start,
    expires: start + 8 * hour,
    entries: 2,
    hostUnit: '3-1102',
    maskedName: '王*',
    ...overrides,
  };
}

let current: SiteKeyPair;
let previous: SiteKeyPair;
let stranger: SiteKeyPair;

beforeAll(async () => {
  [current, previous, stranger] = await Promise.all([
    generateSiteKeys(),
    generateSiteKeys(),
    generateSiteKeys(),
  ]);
});

function context(overrides: Partial<VerifyContext> = {}): VerifyContext {
  return {
    publicKeys: [current.publicJwk],
    site: 'north-park',
    gate: 'main-gate',
    now: (start + hour) * 1000,
    clockSkewSeconds: 60,
    usesOf: () => 0,
    ...overrides,
  };
}

function expectRefusal(verdict: PassVerdict, reason: string): void {
  expect(verdict.ok).toBe(false);
  if (!verdict.ok) expect(verdict.reason).toBe(reason);
}

async function signRaw(
  payload: Uint8Array,
  header: Record<string, unknown>,
  jwk: JWK,
): Promise<string> {
  const key = await importJWK(jwk, 'EdDSA');
  return new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', ...header }).sign(key);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('site keys', () => {
  it('names each key pair by the thumbprint of its public key', () => {
    expect(current.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(current.publicJwk.kid).toBe(current.kid);
    expect(current.publicJwk.d).toBeUndefined();
    expect(current.privateJwk.d).toBeTypeOf('string');
    expect(current.kid).not.toBe(previous.kid);
  });
});

describe('issuing a pass', () => {
  it('produces a compact JWS with the key id in its header', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const header = JSON.parse(Buffer.from(text.split('.')[0], 'base64url').toString()) as Record<
      string,
      unknown
    >;

    expect(text.split('.')).toHaveLength(3);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: current.kid });
  });

  it('uses the registered JWT claims for id and validity', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const payload = JSON.parse(Buffer.from(text.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;

    expect(payload).toMatchObject({
      jti: 'pass-0001',
      nbf: start,
      exp: start + 8 * hour,
      unit: '3-1102',
    });
    expect(payload.iat).toBeTypeOf('number');
  });

  it('masks a full name before it goes into the pass', async () => {
    const text = await issuePass(current.privateJwk, claims({ maskedName: '王小明' }));
    const payload = JSON.parse(Buffer.from(text.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;

    expect(payload.name).toBe('王**');
  });

  it('refuses claims that make no sense', async () => {
    const bad = [
      claims({ entries: 0 }),
      claims({ gates: [] }),
      claims({ expires: start - 1 }),
      claims({ passId: '' }),
    ];

    for (const candidate of bad) {
      await expect(issuePass(current.privateJwk, candidate)).rejects.toSatisfy((error) =>
        hasCode(error, 'bad_payload'),
      );
    }
  });

  it('refuses to sign with a public key', async () => {
    await expect(issuePass(current.publicJwk, claims())).rejects.toSatisfy((error) =>
      hasCode(error, 'bad_payload'),
    );
  });

  it('refuses a pass too long for a QR code', async () => {
    const gates = Array.from({ length: 32 }, (_, index) => `gate-${index}-${'x'.repeat(100)}`);

    await expect(issuePass(current.privateJwk, claims({ gates }))).rejects.toSatisfy((error) =>
      hasCode(error, 'bad_payload'),
    );
  });
});

describe('verifying a pass', () => {
  it('accepts a valid pass and reports the entries left', async () => {
    const text = await issuePass(current.privateJwk, claims());

    const verdict = await verifyPass(
      text,
      context({ usesOf: (id) => (id === 'pass-0001' ? 1 : 0) }),
    );

    expect(verdict).toEqual({ ok: true, pass: claims(), entriesLeft: 1 });
  });

  it('accepts the trailing newline a scanner adds, but not other padding', async () => {
    const text = await issuePass(current.privateJwk, claims());

    expect((await verifyPass(`${text}\r\n`, context())).ok).toBe(true);
    expect((await verifyPass(`${text}\t`, context())).ok).toBe(true);
    expectRefusal(await verifyPass(` ${text}`, context()), 'not_a_pass');
  });

  it('masks a name again even when the issuer forgot to', async () => {
    const payload = {
      jti: 'p-raw',
      nbf: start,
      exp: start + hour,
      site: 'north-park',
      gates: ['main-gate'],
      entries: 1,
      unit: '1',
      name: '李四五六',
    };
    const text = await signRaw(
      Buffer.from(JSON.stringify(payload)),
      { kid: current.kid },
      current.privateJwk,
    );

    const verdict = await verifyPass(text, context());

    expect(verdict.ok && verdict.pass.maskedName).toBe('李***');
  });

  it('refuses a pass for another site', async () => {
    const text = await issuePass(current.privateJwk, claims({ site: 'south-park' }));

    expectRefusal(await verifyPass(text, context()), 'wrong_site');
  });

  it('refuses a pass for another gate', async () => {
    const text = await issuePass(current.privateJwk, claims({ gates: ['east-gate'] }));

    expectRefusal(await verifyPass(text, context()), 'wrong_gate');
  });

  it('refuses a pass whose entries are used up', async () => {
    const text = await issuePass(current.privateJwk, claims({ entries: 2 }));

    expectRefusal(await verifyPass(text, context({ usesOf: () => 2 })), 'used_up');
  });

  it('accepts an expired pass only within the clock skew', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const expires = start + 8 * hour;

    expect((await verifyPass(text, context({ now: (expires + 60) * 1000 + 999 }))).ok).toBe(true);
    expectRefusal(await verifyPass(text, context({ now: (expires + 61) * 1000 })), 'expired');
    expectRefusal(
      await verifyPass(text, context({ now: (expires + 1) * 1000, clockSkewSeconds: 0 })),
      'expired',
    );
  });

  it('accepts an early pass only within the clock skew', async () => {
    const text = await issuePass(current.privateJwk, claims());

    expect((await verifyPass(text, context({ now: (start - 60) * 1000 }))).ok).toBe(true);
    expectRefusal(await verifyPass(text, context({ now: (start - 61) * 1000 })), 'not_yet_valid');
    expectRefusal(
      await verifyPass(text, context({ now: (start - 1) * 1000, clockSkewSeconds: 0 })),
      'not_yet_valid',
    );
  });

  it('verifies passes signed by either key during a key rotation', async () => {
    const keys = [previous.publicJwk, current.publicJwk];
    const old = await issuePass(previous.privateJwk, claims({ passId: 'old' }));
    const fresh = await issuePass(current.privateJwk, claims({ passId: 'new' }));

    expect((await verifyPass(old, context({ publicKeys: keys }))).ok).toBe(true);
    expect((await verifyPass(fresh, context({ publicKeys: keys }))).ok).toBe(true);
    expectRefusal(await verifyPass(old, context()), 'forged');
  });

  it('finds the key by thumbprint when the configured JWK carries no kid', async () => {
    const { kid: _kid, ...bare } = current.publicJwk;
    const text = await issuePass(current.privateJwk, claims());

    expect((await verifyPass(text, context({ publicKeys: [bare] }))).ok).toBe(true);
  });

  it('refuses a pass signed by a key the site does not use', async () => {
    const text = await issuePass(stranger.privateJwk, claims());

    expectRefusal(await verifyPass(text, context()), 'forged');
  });

  it('refuses a pass that claims a known kid but was signed by another key', async () => {
    const payload = Buffer.from(samplePayloadJson());
    const text = await signRaw(payload, { kid: current.kid }, stranger.privateJwk);

    expectRefusal(await verifyPass(text, context()), 'forged');
  });

  it('refuses a pass whose payload was altered after signing', async () => {
    const [header, , signature] = (
      await issuePass(current.privateJwk, claims({ entries: 1 }))
    ).split('.');
    const payload = JSON.parse(samplePayloadJson()) as Record<string, unknown>;
    const altered = `${header}.${base64url({ ...payload, entries: 99 })}.${signature}`;

    expectRefusal(await verifyPass(altered, context()), 'forged');
  });

  it('refuses an unsigned token and one with another algorithm as forged', async () => {
    const payload = base64url(JSON.parse(samplePayloadJson()));
    const unsigned = `${base64url({ alg: 'none' })}.${payload}.`;
    const hmac = await new SignJWT(JSON.parse(samplePayloadJson()) as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256', kid: current.kid })
      .sign(Buffer.from(current.publicJwk.x!));

    expectRefusal(await verifyPass(unsigned, context()), 'forged');
    expectRefusal(await verifyPass(hmac, context()), 'forged');
  });

  it('refuses a token with a valid signature that is not a pass', async () => {
    const notJson = await signRaw(Buffer.from('hello'), { kid: current.kid }, current.privateJwk);
    const wrongShape = await signRaw(
      Buffer.from(JSON.stringify({ jti: 'x', exp: 'soon' })),
      { kid: current.kid },
      current.privateJwk,
    );
    const badUtf8 = await signRaw(
      Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]),
      { kid: current.kid },
      current.privateJwk,
    );

    for (const text of [notJson, wrongShape, badUtf8])
      expectRefusal(await verifyPass(text, context()), 'not_a_pass');
  });

  it('refuses random bytes read as text', async () => {
    for (let round = 0; round < 20; round += 1) {
      const bytes = randomBytes(1 + round * 50);
      for (const encoding of ['latin1', 'utf8'] as const) {
        expectRefusal(await verifyPass(bytes.toString(encoding), context()), 'not_a_pass');
      }
    }
  });

  it('refuses texts of 4 KB, even when they look like a JWS', async () => {
    const segment = 'A'.repeat(1400);
    const jwsShaped = `${segment}.${segment}.${segment}`;
    const real = await issuePass(current.privateJwk, claims());
    const padded = real + 'A'.repeat(4096 - real.length);

    expect(jwsShaped.length).toBeGreaterThan(maxPassTextLength);
    for (const text of [jwsShaped, padded, 'x'.repeat(4096), '\n'.repeat(4096)]) {
      const verdict = await verifyPass(text, context());
      expectRefusal(verdict, 'not_a_pass');
    }
  });

  it('refuses GBK text, whichever charset the decoder guessed', async () => {
    // Lead bytes B0–F7 with trail bytes A1–FE are GB2312 hanzi; a decoder may read them as GBK,
    // Shift_JIS or ISO-8859-1.
    const gbk = Uint8Array.from([
      0xb7, 0xc3, 0xbf, 0xcd, 0xcd, 0xa8, 0xd0, 0xd0, 0xd6, 0xa4, 0x2e, 0xb1, 0xa6,
    ]);
    const readings = [
      new TextDecoder('gbk').decode(gbk),
      new TextDecoder('shift_jis').decode(gbk),
      Buffer.from(gbk).toString('latin1'),
    ];

    expect(readings[0]).toMatch(/\p{Script=Han}/u);
    for (const text of readings) expectRefusal(await verifyPass(text, context()), 'not_a_pass');
  });

  it('still verifies a pass read through a GBK decoder, because a pass is ASCII', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const throughGbk = new TextDecoder('gbk').decode(Buffer.from(text, 'latin1'));

    expect((await verifyPass(throughGbk, context())).ok).toBe(true);
  });

  it('refuses text with replacement characters or lone surrogates from bad UTF-8', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const broken = [
      `${text.slice(0, 20)}\uFFFD${text.slice(21)}`,
      `${text.slice(0, 20)}\uD800${text.slice(21)}`,
      '',
    ];

    for (const candidate of broken)
      expectRefusal(await verifyPass(candidate, context()), 'not_a_pass');
  });

  it('refuses a JWS whose header is not JSON', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const [, payload, signature] = text.split('.');

    expectRefusal(await verifyPass(`bm90IGpzb24.${payload}.${signature}`, context()), 'not_a_pass');
  });

  it('ignores configured keys that are not Ed25519 public keys', async () => {
    const text = await issuePass(current.privateJwk, claims());
    const keys = [{ kty: 'RSA', n: 'abc', e: 'AQAB' }, { nonsense: true }, current.publicJwk];

    expect((await verifyPass(text, context({ publicKeys: keys }))).ok).toBe(true);
    expectRefusal(await verifyPass(text, context({ publicKeys: [] })), 'forged');
  });
});

function samplePayloadJson(): string {
  return JSON.stringify({
    jti: 'p',
    nbf: start,
    exp: start + hour,
    site: 'north-park',
    gates: ['main-gate'],
    entries: 1,
    unit: '1',
    name: '王*',
  });
}
