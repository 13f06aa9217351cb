import { appendAudit, type AuditContext } from '../../audit/audit.js';
import { addSeconds } from '../../clock.js';
import { hashToken, newToken } from '../../crypto/random.js';
import type { Session } from '../../db/schema.js';
import { WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { createGrant } from '../../grants/service.js';
import { linkDevice } from '../../grants/device-link.js';
import { claimedAcr } from '../checks/acr.js';
import type { ValidatedRequest } from './request.js';
import { completeInteractiveRequest } from './store.js';

/** What a code is issued for: a validated authorization request, or an auth_session of the authorization challenge endpoint (no redirect URI). */
export type CodeRequest = Pick<ValidatedRequest, 'clientId' | 'scopes' | 'nonce' | 'codeChallenge' | 'requestedAcrValues' | 'dpopJkt' | 'deviceName'> & { redirectUri: string | null };

/**
 * Issues an authorization code: creates the grant it belongs to, stores the code's
 * hash, completes the pending request (so it cannot yield a second code) and audits
 * the sign-in to the client, all in one transaction. Returns the code.
 */
export async function issueAuthorizationCode(
  deps: Deps,
  context: AuditContext,
  input: { request: CodeRequest; session: Session; pendingRequestId: string | undefined },
): Promise<string> {
  const { request, session } = input;
  const code = newToken();
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    if (input.pendingRequestId !== undefined && !(await completeInteractiveRequest(trx, deps.clock, input.pendingRequestId)))
      throw new WartaError(400, 'invalid_request', 'this sign-in request has already been completed');
    const grant = await createGrant(trx, deps.clock, {
      clientId: request.clientId,
      session,
      acr: claimedAcr(session.acr, request.requestedAcrValues ?? []),
      scope: request.scopes.join(' '),
      dpopJkt: request.dpopJkt ?? null,
      lifetimeSeconds: deps.config.oidc.refreshTokenTtlSeconds,
    });
    // Every new grant is a new device: audited and raised as device_linked (docs/devices.md).
    await linkDevice(trx, deps, { grant, requestedName: request.deviceName, context });
    await trx
      .insertInto('oauth_authorization_codes')
      .values({
        code_hash: hashToken(code),
        grant_id: grant.id,
        client_id: request.clientId,
        redirect_uri: request.redirectUri,
        code_challenge: request.codeChallenge,
        nonce: request.nonce ?? null,
        dpop_jkt: request.dpopJkt ?? null,
        created_at: now,
        expires_at: addSeconds(now, deps.config.oidc.authorizationCodeTtlSeconds),
        used_at: null,
      })
      .execute();
    await appendAudit(trx, deps, { ...context, actor: `user:${session.user_id}` }, {
      action: 'oidc.authorized',
      subject: `client:${request.clientId}`,
      details: { grant_id: grant.id, scope: grant.scope, acr: grant.acr, session_acr: session.acr, session_id: session.id },
    });
  });
  return code;
}
