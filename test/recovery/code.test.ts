import { describe, expect, it } from 'vitest';
import { DEFAULT_ARGON2_PARAMS } from '../../src/passwords/hash.js';
import { CODE_ENTROPY_BITS, CROCKFORD_ALPHABET, formatRecoveryCode, generateRecoveryCode, hashRecoveryCode, normaliseRecoveryCode, recoveryCodeMatches } from '../../src/recovery/code.js';

describe('recovery codes', () => {
  it('are 20 symbols of Crockford base32, at least 100 bits, printed as five groups of four', () => {
    expect(CODE_ENTROPY_BITS).toBeGreaterThanOrEqual(100);
    const code = generateRecoveryCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(formatRecoveryCode(code)).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(new Set(Array.from({ length: 50 }, generateRecoveryCode)).size).toBe(50);
  });

  it('draw every symbol of the alphabet, and never I, L, O or U', () => {
    const seen = new Set(Array.from({ length: 400 }, generateRecoveryCode).join(''));
    expect([...seen].sort().join('')).toBe(CROCKFORD_ALPHABET);
  });

  it('read what a person types from paper: any case, dashes and spaces, I and L as 1, O as 0', () => {
    const code = '01KM-Q9TD-2XHW-8RNP-C4VB';
    const canonical = '01KMQ9TD2XHW8RNPC4VB';
    expect(normaliseRecoveryCode(code)).toBe(canonical);
    expect(normaliseRecoveryCode('o1km q9td 2xhw 8rnp c4vb')).toBe(canonical);
    expect(normaliseRecoveryCode('OIKM-Q9TD-2XHW-8RNP-C4VB')).toBe(canonical);
    expect(normaliseRecoveryCode('0lkmq9td2xhw8rnpc4vb')).toBe(canonical);
    expect(normaliseRecoveryCode('  01KM--Q9TD  2XHW-8RNP-C4VB ')).toBe(canonical);
  });

  it('refuse what cannot be a code, so it is answered like a wrong one', () => {
    expect(normaliseRecoveryCode('01KM-Q9TD-2XHW-8RNP-C4V')).toBeUndefined();
    expect(normaliseRecoveryCode('01KM-Q9TD-2XHW-8RNP-C4VBB')).toBeUndefined();
    expect(normaliseRecoveryCode('U1KM-Q9TD-2XHW-8RNP-C4VB')).toBeUndefined();
    expect(normaliseRecoveryCode('01KM.Q9TD.2XHW.8RNP.C4VB')).toBeUndefined();
    expect(normaliseRecoveryCode('x'.repeat(65))).toBeUndefined();
  });

  it('are stored as an argon2id hash that verifies only the same code', async () => {
    const code = generateRecoveryCode();
    const hash = await hashRecoveryCode(code, DEFAULT_ARGON2_PARAMS);
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash).not.toContain(code);
    expect(await recoveryCodeMatches(hash, code)).toBe(true);
    expect(await recoveryCodeMatches(hash, generateRecoveryCode())).toBe(false);
  });
});
