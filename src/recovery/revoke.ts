import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { revokeLiveRows } from '../db/revoke.js';
import type { Database } from '../db/schema.js';
import { enqueueBackchannelLogouts } from '../grants/service.js';

/** The credentials the recovery itself just created, which stay. */
export interface KeptCredentials {
  passkeyId?: string;
  totpCredentialId?: string;
  password?: boolean;
}

export interface RevokedAtRecovery {
  passkeys: number;
  totp: number;
  password: number;
  grants: number;
  sessions: number;
  backchannel_logouts: number;
}

const REASON = 'account_recovered';

/**
 * Everything that let anyone into the account before the recovery stops
 * working, inside the recovery's transaction: whoever held a lost device (or
 * stole a session, a password or a refresh token) is out from this moment.
 * Clients signed in through a live session are queued a back-channel logout.
 */
export async function revokeOldCredentials(trx: Transaction<Database>, clock: Clock, userId: string, keep: KeptCredentials): Promise<RevokedAtRecovery> {
  const now = clock.now();
  const passkeys = await trx
    .updateTable('webauthn_credentials')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .$if(keep.passkeyId !== undefined, (qb) => qb.where('id', '<>', keep.passkeyId!))
    .executeTakeFirst();
  const totp = await trx
    .deleteFrom('totp_credentials')
    .where('user_id', '=', userId)
    .$if(keep.totpCredentialId !== undefined, (qb) => qb.where('id', '<>', keep.totpCredentialId!))
    .executeTakeFirst();
  await trx.deleteFrom('totp_setups').where('user_id', '=', userId).execute();
  const password = keep.password ? undefined : await trx.deleteFrom('password_credentials').where('user_id', '=', userId).executeTakeFirst();

  const live = await trx.selectFrom('sessions').select(['id', 'user_id']).where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
  let backchannelLogouts = 0;
  for (const session of live) backchannelLogouts += (await enqueueBackchannelLogouts(trx, clock, session)).length;
  const grants = await revokeLiveRows(trx, clock, 'oauth_grants', { user_id: userId }, REASON);
  const sessions = await revokeLiveRows(trx, clock, 'sessions', { user_id: userId }, REASON);
  return {
    passkeys: Number(passkeys.numUpdatedRows),
    totp: Number(totp.numDeletedRows),
    password: Number(password?.numDeletedRows ?? 0),
    grants,
    sessions,
    backchannel_logouts: backchannelLogouts,
  };
}
