import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

const cheap = { N: 2 ** 10, r: 8, p: 1 };

describe('password hashing', () => {
  it('verifies the password it hashed and refuses any other', async () => {
    const stored = await hashPassword('gate keeper 2026');

    expect(await verifyPassword('gate keeper 2026', stored)).toBe(true);
    expect(await verifyPassword('gate keeper 2027', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash, so one password never stores the same twice', async () => {
    const first = await hashPassword('same password', cheap);
    const second = await hashPassword('same password', cheap);

    expect(first).not.toBe(second);
    expect(await verifyPassword('same password', first)).toBe(true);
    expect(await verifyPassword('same password', second)).toBe(true);
  });

  it('keeps its parameters in the stored string so old hashes verify after the cost is raised', async () => {
    const stored = await hashPassword('raised later', cheap);

    expect(stored.split('$').slice(0, 4)).toEqual(['scrypt', '1024', '8', '1']);
    expect(await verifyPassword('raised later', stored)).toBe(true);
    expect(needsRehash(stored)).toBe(true);
    expect(needsRehash(await hashPassword('current', undefined))).toBe(false);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const stored = await hashPassword('caf\u00e9 au lait', cheap);

    expect(await verifyPassword('cafe\u0301 au lait', stored)).toBe(true);
  });

  it('refuses a stored string that is not a scrypt hash with store_failed', async () => {
    await expect(verifyPassword('x', 'plain-text-password')).rejects.toMatchObject({
      code: 'store_failed',
    });
  });
});
