import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Session, WebauthnCredential } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { removeFactorAfterStrongProof } from '../sessions/reauth.js';
import { passkeyName } from '../webauthn/credentials.js';

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
    await appendAudit(trx, deps, context, { action: 'passkey.renamed', subject: `user:${input.userId}`, details: { passkey_id: passkey.id, name } });
    return passkey;
  });
}

/**
 * Removes a passkey after a recent re-authentication as strong as the user's
 * strongest way to sign in (a passkey when they have a phishing-resistant one).
 * Removing the last way to sign in needs `confirmLastMethod` as well.
 */
export async function removePasskey(deps: Deps, context: AuditContext, input: { session: Session; passkeyId: string; confirmLastMethod: boolean }): Promise<{ remaining: number }> {
  return removeFactorAfterStrongProof(deps, context, { session: input.session, confirmLastMethod: input.confirmLastMethod, factor: 'passkey' }, async (trx, userId) => {
    const passkey = await trx
      .updateTable('webauthn_credentials')
      .set({ revoked_at: deps.clock.now() })
      .where('id', '=', input.passkeyId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(['id', 'name'])
      .executeTakeFirst();
    if (!passkey) throw passkeyNotFound();
    return { passkey_id: passkey.id, name: passkey.name };
  });
}
