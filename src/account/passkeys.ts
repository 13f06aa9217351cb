import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Session, WebauthnCredential } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { passkeyName } from '../webauthn/credentials.js';
import { countSignInMethods } from './sign-in-methods.js';

const passkeyNotFound = () => notFound('passkey_not_found', 'no such passkey on your account');

export async function renamePasskey(deps: Deps, context: AuditContext, input: { userId: string; passkeyId: string; name: string }): Promise<WebauthnCredential> {
  const name = passkeyName(input.name);
  if (!name) throw new WartaError(400, 'invalid_request', 'name is required');
  return deps.db.transaction().execute(async (trx) => {
    const passkey = await trx
      .updateTable('webauthn_credentials')
      .set({ name })
      .where('id', '=', input.passkeyId)
      .where('user_id', '=', input.userId)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!passkey) throw passkeyNotFound();
    await appendAudit(trx, deps.clock, context, { action: 'passkey.renamed', subject: `user:${input.userId}`, details: { passkey_id: passkey.id, name } });
    return passkey;
  });
}

/**
 * Removes a passkey after a recent passkey re-authentication. Removing the last
 * way to sign in needs `confirmLastMethod` as well: afterwards only the recovery
 * desk can let the person back in.
 */
export async function removePasskey(deps: Deps, context: AuditContext, input: { session: Session; passkeyId: string; confirmLastMethod: boolean }): Promise<{ remaining: number }> {
  assertRecentPasskey(input.session, deps.clock);
  const userId = input.session.user_id;
  return deps.db.transaction().execute(async (trx) => {
    // Locking the user serialises changes to their sign-in methods: two removals at once cannot both see "one left".
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const passkey = await trx.selectFrom('webauthn_credentials').selectAll().where('id', '=', input.passkeyId).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
    if (!passkey) throw passkeyNotFound();
    const methods = await countSignInMethods(trx, userId);
    const remaining = methods.total - (passkey.blocked_at ? 0 : 1);
    if (remaining === 0 && !input.confirmLastMethod)
      throw new WartaError(409, 'last_sign_in_method', 'this is your last way to sign in; without it only the recovery desk can let you back in. Confirm to remove it anyway');
    await trx.updateTable('webauthn_credentials').set({ revoked_at: deps.clock.now() }).where('id', '=', passkey.id).execute();
    await appendAudit(trx, deps.clock, context, {
      action: 'passkey.removed',
      subject: `user:${userId}`,
      details: { passkey_id: passkey.id, name: passkey.name, remaining_sign_in_methods: remaining, ...(remaining === 0 ? { last_method_confirmed: true } : {}) },
    });
    return { remaining };
  });
}
