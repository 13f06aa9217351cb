/**
 * Recovery codes: 20 symbols of Crockford's base32 (100 bits from the CSPRNG),
 * printed as XXXX-XXXX-XXXX-XXXX-XXXX. People copy them from paper, so input
 * is forgiving the way Crockford designed it: any case, dashes and spaces
 * ignored, I and L read as 1, O as 0. U is not in the alphabet (and never printed).
 */
import { randomBytes } from 'node:crypto';
import { WartaError } from '../errors.js';
import { hashPassword, verifyPassword, type Argon2Params } from '../passwords/hash.js';

export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_SYMBOLS = 20;
export const CODE_ENTROPY_BITS = CODE_SYMBOLS * 5;

/** A fresh code in its canonical form (no dashes); every symbol takes 5 fresh bits, so none is more likely than another. */
export function generateRecoveryCode(): string {
  const bytes = randomBytes(Math.ceil(CODE_ENTROPY_BITS / 8));
  let code = '';
  for (let i = 0; i < CODE_SYMBOLS; i++) {
    const bit = i * 5;
    const pair = (bytes[bit >> 3]! << 8) | (bytes[(bit >> 3) + 1] ?? 0);
    code += CROCKFORD_ALPHABET[(pair >> (11 - (bit & 7))) & 31];
  }
  return code;
}

/** XXXX-XXXX-XXXX-XXXX-XXXX, for the slip. */
export const formatRecoveryCode = (canonical: string): string => canonical.match(/.{1,4}/g)!.join('-');

/**
 * The canonical form of what the user typed, or undefined when it cannot be a
 * code (wrong length or a symbol outside the alphabet). Callers treat undefined
 * exactly like a wrong code.
 */
export function normaliseRecoveryCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const canonical = typed.toUpperCase().replace(/[\s-]+/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (canonical.length !== CODE_SYMBOLS) return undefined;
  for (const symbol of canonical) if (!CROCKFORD_ALPHABET.includes(symbol)) return undefined;
  return canonical;
}

/** Only an argon2id hash of the code is stored: a copy of the database does not let anyone redeem it. */
export const hashRecoveryCode = (canonical: string, params: Argon2Params): Promise<string> => hashPassword(canonical, params);

export async function recoveryCodeMatches(hash: string, canonical: string): Promise<boolean> {
  try {
    return await verifyPassword(hash, canonical);
  } catch (error) {
    throw new WartaError(500, 'server_error', 'a stored recovery code hash could not be read', { cause: error });
  }
}
