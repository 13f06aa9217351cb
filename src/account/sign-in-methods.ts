import type { Database, Db } from '../db/schema.js';
import { countPasswordAndTotp } from '../passwords/password-account.js';
import { countActivePasskeys } from '../webauthn/credentials.js';


/**
 * Ways a user can sign in by themselves, each counted by one function; a
 * capability with a new way to sign in adds its counter here.
 */
const COUNTERS: Record<string, (db: Db, userId: string) => Promise<number>> = {
  passkeys: countActivePasskeys,
  passwordAndTotp: countPasswordAndTotp,
};

export interface SignInMethods {
  total: number;
  byMethod: Record<string, number>;
}

/** How many independent ways the user has to sign in; 0 means only the recovery desk can let them back in. */
export async function countSignInMethods(db: Db, userId: string): Promise<SignInMethods> {
  const byMethod: Record<string, number> = {};
  for (const [method, count] of Object.entries(COUNTERS)) byMethod[method] = Number(await count(db, userId));
  return { total: Object.values(byMethod).reduce((sum, n) => sum + n, 0), byMethod };
}
