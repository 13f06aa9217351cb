import * as argon2 from 'argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Argon2Params,
  DEFAULT_ARGON2_PARAMS,
  hashPassword,
  measureHashTime,
  needsRehash,
  verifyPassword,
} from '../../src/passwords/hash.js';
import { MAX_PASSWORD_LENGTH } from '../../src/passwords/policy.js';

vi.mock('argon2', { spy: true });

/** Cheap parameters for tests that are not about the cost. */
const FAST: Argon2Params = { memoryKiB: 1024, timeCost: 1, parallelism: 1 };

afterEach(() => {
  vi.clearAllMocks();
});

describe('hashPassword and verifyPassword', () => {
  it('meets the OWASP minimum by default: argon2id, 19 MiB, t=2, p=1', async () => {
    expect(DEFAULT_ARGON2_PARAMS).toEqual({ memoryKiB: 19456, timeCost: 2, parallelism: 1 });
    const hash = await hashPassword('tangerine lamps on the pier', DEFAULT_ARGON2_PARAMS);
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash).toContain('m=19456');
    expect(hash).toContain('t=2');
    expect(hash).toContain('p=1');
  });

  it('verifies the password it hashed', async () => {
    const hash = await hashPassword('tangerine lamps on the pier', DEFAULT_ARGON2_PARAMS);
    expect(await verifyPassword(hash, 'tangerine lamps on the pier')).toBe(true);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', FAST), hashPassword('same password', FAST)]);
    expect(a).not.toBe(b);
  });

  it('rejects a wrong password', async () => {
    const hash = await hashPassword('tangerine lamps on the pier', FAST);
    expect(await verifyPassword(hash, 'tangerine lamps on the pie')).toBe(false);
    expect(await verifyPassword(hash, 'Tangerine lamps on the pier')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('hashes the NFKC form, so full-width and ASCII spellings verify alike', async () => {
    const fullWidth = await hashPassword('ｐａｓｓｗｏｒｄ ｆｏｒ ｔｅｓｔｉｎｇ', FAST);
    expect(await verifyPassword(fullWidth, 'password for testing')).toBe(true);
    const ascii = await hashPassword('password for testing', FAST);
    expect(await verifyPassword(ascii, 'ｐａｓｓｗｏｒｄ ｆｏｒ ｔｅｓｔｉｎｇ')).toBe(true);
  });

  it('hashes composed and decomposed accents alike', async () => {
    const composed = await hashPassword('zażółć gęślą jaźń', FAST);
    expect(await verifyPassword(composed, 'zażółć gęślą jaźń'.normalize('NFD'))).toBe(true);
  });

  it('refuses a too-long password without calling argon2', async () => {
    const tooLong = 'x'.repeat(MAX_PASSWORD_LENGTH + 1);
    await expect(hashPassword(tooLong, FAST)).rejects.toMatchObject({ status: 400, code: 'password_too_long' });
    expect(argon2.hash).not.toHaveBeenCalled();

    const hash = await hashPassword('tangerine lamps on the pier', FAST);
    await expect(verifyPassword(hash, tooLong)).rejects.toMatchObject({ code: 'password_too_long' });
    expect(argon2.verify).not.toHaveBeenCalled();
  });

  it('accepts exactly the maximum length', async () => {
    const longest = 'x'.repeat(MAX_PASSWORD_LENGTH);
    expect(await verifyPassword(await hashPassword(longest, FAST), longest)).toBe(true);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made with the configured parameters', async () => {
    const hash = await hashPassword('tangerine lamps on the pier', FAST);
    expect(needsRehash(hash, FAST)).toBe(false);
  });

  it.each([
    ['memory', { ...FAST, memoryKiB: 2048 }],
    ['iterations', { ...FAST, timeCost: 2 }],
    ['parallelism', { ...FAST, parallelism: 2 }],
  ])('is true once the configured %s is raised', async (_, raised) => {
    const hash = await hashPassword('tangerine lamps on the pier', FAST);
    expect(needsRehash(hash, raised)).toBe(true);
  });

  it('is false when the configuration is lowered below the stored parameters', async () => {
    const hash = await hashPassword('tangerine lamps on the pier', { memoryKiB: 2048, timeCost: 2, parallelism: 2 });
    expect(needsRehash(hash, FAST)).toBe(false);
  });

  it('reads the parameters in any order', () => {
    const hash = '$argon2id$v=19$t=2,p=1,m=19456$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
    expect(needsRehash(hash, DEFAULT_ARGON2_PARAMS)).toBe(false);
    expect(needsRehash(hash, { ...DEFAULT_ARGON2_PARAMS, memoryKiB: 47104 })).toBe(true);
  });

  it.each([
    ['argon2i', '$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['argon2d', '$argon2d$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['Argon2 1.0 (no version)', '$argon2id$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['bcrypt', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'],
    ['a malformed parameter', '$argon2id$v=19$m=big,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['an empty string', ''],
  ])('is true for %s', (_, hash) => {
    expect(needsRehash(hash, FAST)).toBe(true);
  });
});

describe('measureHashTime', () => {
  it('reports a positive mean time per hash', async () => {
    const ms = await measureHashTime(FAST, 2);
    expect(ms).toBeGreaterThan(0);
    expect(argon2.hash).toHaveBeenCalledTimes(3);
  });
});
