/**
 * What happens to a valid authorization request (OIDC Core §3.1.2.3-§3.1.2.5), in order:
 * sign-in (or step-up) when needed, consent when needed, then a code. `prompt=none`
 * turns each "needed" into an error for the client instead of a page.
 */
import { appendAudit, type AuditContext } from '../../audit/audit.js';
import type { OAuthClient, Session, User } from '../../db/schema.js';
import { WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { ACR_HARDWARE, ACR_PHISHING_RESISTANT, acrReaches } from '../../sessions/service.js';
import { type Locale, LOCALES } from '../../ui/i18n.js';
import { signInNeeded, type SignInReason } from '../checks/authentication.js';
import { consentNeeded } from '../checks/consent.js';
import { acceptsUserOf } from '../checks/organisation.js';
import { hasRequirements, unmetRequirement } from '../checks/requirements.js';
import { attributesOf } from '../../attributes/service.js';
import { groupPathsOf } from '../../groups/service.js';
import type { AuthorizationParams } from '../checks/params.js';
import { parseScope } from '../checks/scope.js';
import { ENDPOINTS } from '../endpoints.js';
import { issueAuthorizationCode } from './issue-code.js';
import type { ValidatedRequest } from './request.js';
import { authorizationResponseUrl } from './respond.js';
import { countSignInRound, saveAuthorizationRequest } from './store.js';

/** Trips back to the sign-in page one request may take before it fails. */
const MAX_SIGN_IN_ROUNDS = 3;

export interface AuthorizationAttempt {
  client: OAuthClient;
  request: ValidatedRequest;
  /** The parameters as received, stored when the request must wait for the user. */
  params: AuthorizationParams;
  /** Set when resuming a stored request. */
  pending: { id: string; createdAt: Date } | undefined;
  /** The user just consented on the consent page. */
  consented?: boolean;
}

/** The browser's side of the request, as the route saw it. */
export interface AuthorizationRequester {
  session: Session | undefined;
  user: User | undefined;
  context: AuditContext;
}

/** Where the browser goes next: a redirect (to sign in, or back to the client with a code), or the consent page. */
export type AuthorizationStep =
  | { redirectTo: string }
  | { consent: { requestId: string; clientName: string; scopes: readonly string[]; redirectUri: string; locale: Locale | undefined } };

export async function continueAuthorization(deps: Deps, requester: AuthorizationRequester, attempt: AuthorizationAttempt): Promise<AuthorizationStep> {
  const { client, request } = attempt;
  const { session } = requester;

  const reason = signInNeeded({ session, prompt: request.prompt, maxAge: request.maxAge, requiredAcr: request.requiredAcr, now: deps.clock.now(), requestedAt: attempt.pending?.createdAt });
  if (reason !== undefined) {
    // OIDC Core §3.1.2.6: with prompt=none the OP must not show anything.
    if (request.prompt.includes('none')) throw new WartaError(400, 'login_required', 'the user must sign in');
    // Signed in again for this request and still short of the required acr (e.g. a
    // password where a passkey is required): refuse rather than accept or loop.
    if (reason === 'acr' && attempt.pending && session && session.auth_time >= attempt.pending.createdAt)
      throw new WartaError(400, 'unmet_authentication_requirements', 'the user did not sign in with the required method');
    // A sign-in page that sends the browser straight back (e.g. because a session exists)
    // would otherwise loop until the browser gives up: end it with an error for the client.
    if (attempt.pending && (await countSignInRound(deps.db, attempt.pending.id)) > MAX_SIGN_IN_ROUNDS)
      throw new WartaError(400, 'login_required', 'the sign-in did not meet the request (prompt, max_age or acr)');
    const id = attempt.pending?.id ?? (await saveAuthorizationRequest(deps.db, deps.clock, { kind: 'interactive', params: attempt.params, ttlSeconds: deps.config.oidc.authorizationRequestTtlSeconds }));
    return { redirectTo: signInLocation(id, request, reason) };
  }

  const user = requester.user!;
  await refuseOtherOrganisation(deps, requester.context, client, user);
  await refuseUnmetRequirements(deps, requester.context, client, user);
  if (!attempt.consented) {
    const consent = client.first_party
      ? undefined
      : await deps.db.selectFrom('oauth_consents').select('scope').where('user_id', '=', user.id).where('client_id', '=', client.client_id).executeTakeFirst();
    if (consentNeeded({ firstParty: client.first_party, prompt: request.prompt, scopes: request.scopes, consentedScope: consent?.scope })) {
      if (request.prompt.includes('none')) throw new WartaError(400, 'consent_required', 'the user has not consented to this application');
      const id = attempt.pending?.id ?? (await saveAuthorizationRequest(deps.db, deps.clock, { kind: 'interactive', params: attempt.params, ttlSeconds: deps.config.oidc.authorizationRequestTtlSeconds }));
      return { consent: { requestId: id, clientName: client.client_name, scopes: request.scopes, redirectUri: request.redirectUri, locale: preferredLocale(request.uiLocales) } };
    }
  }

  const code = await issueAuthorizationCode(deps, requester.context, { request, clientName: client.client_name, session: session!, pendingRequestId: attempt.pending?.id });
  return { redirectTo: authorizationResponseUrl(request.redirectUri, deps.config.issuer, { code, state: request.state }) };
}

/**
 * Ends the request with `access_denied` (to the redirect URI) when the client does
 * not accept users of the signed-in user's organisation; audited, for it is what
 * a link to another organisation's look-alike client produces.
 */
export async function refuseOtherOrganisation(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, client: OAuthClient, user: User): Promise<void> {
  if (acceptsUserOf(client, user)) return;
  await appendAudit(deps.db, deps, context, {
    action: 'oidc.organisation_refused',
    subject: `client:${client.client_id}`,
    outcome: 'failure',
    details: { user_id: user.id, user_organisation_id: user.organisation_id, client_organisation_id: client.organisation_id },
  });
  throw new WartaError(403, 'access_denied', 'this application is not available to users of your organisation');
}

/**
 * The client's required groups and attributes (checks/requirements.ts): a person who
 * misses one gets `access_denied` at the redirect URI, saying what is missing, and the
 * refusal is audited. Read from the database at each sign-in, never from a session.
 */
export async function refuseUnmetRequirements(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, client: OAuthClient, user: User): Promise<void> {
  if (!hasRequirements(client)) return;
  const missing = unmetRequirement(client, { groups: await groupPathsOf(deps.db, user.id), attributes: await attributesOf(deps.db, user.id) });
  if (missing === undefined) return;
  await appendAudit(deps.db, deps, context, { action: 'oidc.requirement_refused', subject: `client:${client.client_id}`, outcome: 'failure', details: { user_id: user.id, missing } });
  throw new WartaError(403, 'access_denied', `this application is only for people with ${missing}, as your organisation records it; ask your organisation's administrator`);
}

/** Records the user's consent (merged with any earlier one), audited in the same transaction. */
export async function recordConsent(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, user: User, client: OAuthClient, scopes: readonly string[]): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('oauth_consents').select('scope').where('user_id', '=', user.id).where('client_id', '=', client.client_id).forUpdate().executeTakeFirst();
    const scope = [...new Set([...parseScope(existing?.scope), ...scopes])].join(' ');
    await trx
      .insertInto('oauth_consents')
      .values({ user_id: user.id, client_id: client.client_id, scope, granted_at: deps.clock.now() })
      .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scope, granted_at: deps.clock.now() }))
      .execute();
    await appendAudit(trx, deps, context, { action: 'oidc.consent_granted', subject: `client:${client.client_id}`, details: { user_id: user.id, scope } });
  });
}

/**
 * The sign-in page, told where to resume (a relative path on Warta, never a URL the
 * client chose), whether a passkey is required, and any hints the client gave.
 */
function signInLocation(requestId: string, request: ValidatedRequest, reason: SignInReason): string {
  const query = new URLSearchParams({ return_to: `${ENDPOINTS.authorizationResume}?request=${encodeURIComponent(requestId)}` });
  // Both passkey tiers take the same step-up path; the sign-in page keeps the session only when it reaches the tier asked for.
  if (request.requiredAcr !== undefined && acrReaches(request.requiredAcr, ACR_PHISHING_RESISTANT)) query.set('acr', request.requiredAcr === ACR_HARDWARE ? 'hardware' : 'phishing-resistant');
  if (reason === 'prompt_login' || reason === 'max_age') query.set('prompt', 'login');
  if (request.loginHint !== undefined) query.set('login_hint', request.loginHint.slice(0, 256));
  const locale = preferredLocale(request.uiLocales);
  if (locale !== undefined) query.set('lang', locale);
  return `/signin?${query}`;
}

/** OIDC Core §3.1.2.1 `ui_locales`: the first of the client's space-separated BCP47 tags (in order of preference) that Warta speaks. */
function preferredLocale(uiLocales: string | undefined): Locale | undefined {
  return (uiLocales ?? '')
    .split(' ')
    .map((tag) => tag.toLowerCase().split('-')[0])
    .find((tag): tag is Locale => (LOCALES as readonly string[]).includes(tag ?? ''));
}
