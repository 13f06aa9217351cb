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

export interface EndedAtRecovery {
  grants: number;
  sessions: number;
  backchannel_logouts: number;
}

/**
 * Every session, OIDC grant and refresh token the account had ends inside the
 * recovery's transaction, whatever the organisation's policy says about old
 * credentials: once the code was redeemed, nothing an old session holds counts
 * (a hijacked session must not outlive the recovery meant to end it). Clients
 * signed in through a live session are queued a back-channel logout.
 */
export async function endOldSessions(trx: Transaction<Database>, clock: Clock, userId: string, reason = REASON): Promise<EndedAtRecovery> {
  const now = clock.now();
  const live = await trx.selectFrom('sessions').select(['id', 'user_id']).where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
  let backchannelLogouts = 0;
  for (const session of live) backchannelLogouts += (await enqueueBackchannelLogouts(trx, clock, session)).length;
  const grants = await revokeLiveRows(trx, clock, 'oauth_grants', { user_id: userId }, reason);
  const sessions = await revokeLiveRows(trx, clock, 'sessions', { user_id: userId }, reason);
  return { grants, sessions, backchannel_logouts: backchannelLogouts };
}

/**
 * Every way to sign in the account had before, except what the recovery just
 * created, when the organisation's policy revokes them: whoever held a lost
 * device (or stole a password) is out from this moment.
 */
export async function revokeOldCredentials(trx: Transaction<Database>, clock: Clock, userId: string, keep: KeptCredentials): Promise<Omit<RevokedAtRecovery, keyof EndedAtRecovery>> {
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
  return { passkeys: Number(passkeys.numUpdatedRows), totp: Number(totp.numDeletedRows), password: Number(password?.numDeletedRows ?? 0) };
}
