import { sql } from 'kysely';
import { appendAuditWhen, type AuditContext } from '../../audit/audit.js';
import { addSeconds } from '../../clock.js';
import { hashToken, newToken } from '../../crypto/random.js';
import { insertRowWhen } from '../../db/insert-when.js';
import type { Session } from '../../db/schema.js';
import { WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { newGrantRow } from '../../grants/service.js';
import { deviceOwnerStep, linkDeviceSteps } from '../../grants/device-link.js';
import { claimedAcr } from '../checks/acr.js';
import type { ValidatedRequest } from './request.js';
import { completeRequestStep } from './store.js';

/** What a code is issued for: a validated authorization request, or an auth_session of the authorization challenge endpoint (no redirect URI). */
export type CodeRequest = Pick<ValidatedRequest, 'clientId' | 'scopes' | 'nonce' | 'codeChallenge' | 'requestedAcrValues' | 'dpopJkt' | 'deviceName'> & { redirectUri: string | null };

/**
 * Issues an authorization code: creates the grant it belongs to, links its device
 * (audited and raised as device_linked), stores the code's hash, completes the
 * pending request (so it cannot yield a second code) and audits the sign-in to the
 * client, in one statement: all of it commits or none, in one round trip. Each step
 * is written only when the one before it was: the user's row read (taking the
 * per-user lock of security events), then the pending request completed
 * (`used_at IS NULL`), then the grant. Returns the code.
 */
export async function issueAuthorizationCode(
  deps: Deps,
  context: AuditContext,
  input: { request: CodeRequest; clientName: string; session: Session; pendingRequestId: string | undefined },
): Promise<string> {
  const { request, session } = input;
  const code = newToken();
  const now = deps.clock.now();
  const grant = newGrantRow(deps.clock, {
    clientId: request.clientId,
    session,
    acr: claimedAcr(session.acr, request.requestedAcrValues ?? []),
    scope: request.scopes.join(' '),
    dpopJkt: request.dpopJkt ?? null,
    lifetimeSeconds: deps.config.oidc.refreshTokenTtlSeconds,
  });
  const subjectRead = sql<boolean>`exists (select from subject)`;
  const completed = input.pendingRequestId === undefined ? sql`select 1 where ${subjectRead}` : completeRequestStep(deps.clock, input.pendingRequestId, subjectRead);
  const codeRow = {
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
  };
  const authorized = appendAuditWhen('code', deps, { ...context, actor: `user:${session.user_id}` }, {
    action: 'oidc.authorized',
    subject: `client:${request.clientId}`,
    details: { grant_id: grant.id, scope: grant.scope, acr: grant.acr, session_acr: session.acr, session_id: session.id },
  });
  // Every new grant is a new device: audited and raised as device_linked (docs/devices.md).
  const device = linkDeviceSteps(deps, { grant, clientName: input.clientName, requestedName: request.deviceName, context }, { grant: 'granted', subject: 'subject' });
  const { rows } = await sql<{ subject: number; completed: number }>`
    with subject as (${deviceOwnerStep(session.user_id)}),
    completed as (${completed}),
    granted as (${insertRowWhen('oauth_grants', grant, sql<boolean>`exists (select from completed)`)} returning id),
    ${device},
    code as (${insertRowWhen('oauth_authorization_codes', codeRow, sql<boolean>`exists (select from granted)`)} returning 1),
    authorized as (${authorized})
    select (select count(*) from subject)::int as subject, (select count(*) from completed)::int as completed`.execute(deps.db);
  const outcome = rows[0]!;
  // Fail closed, as the read of a vanished user would: no grant for a user who is not there.
  if (!outcome.subject) throw new Error(`authorization code: user ${session.user_id} not found`);
  if (!outcome.completed) throw new WartaError(400, 'invalid_request', 'this sign-in request has already been completed');
  return code;
}
