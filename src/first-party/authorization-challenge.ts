/**
 * The authorization challenge endpoint (OAuth 2.0 for First-Party Applications,
 * draft-ietf-oauth-first-party-apps §5) for clients the operator marked
 * `first_party_native`: the app signs the user in with a passkey through the
 * platform API (Credential Manager, ASAuthorization), without a browser, and gets
 * an authorization code it redeems at the token endpoint with PKCE and DPoP.
 *
 *  1. Without `auth_session`: the request is checked (scope, PKCE, acr) and stored as
 *     an auth_session bound to the request's DPoP key, with a passkey challenge of its
 *     own; the answer is `insufficient_authorization` carrying the auth_session and
 *     the WebAuthn request options.
 *  2. With `auth_session` and `webauthn_response`: the assertion is verified as a
 *     browser sign-in is (src/webauthn/authenticate.ts: the exact origin check, so an
 *     app signed with another key gets nothing), and the code is issued in the
 *     transaction that marks the auth_session used.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { AuditContext } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../crypto/random.js';
import { json, type OAuthClient } from '../db/schema.js';
import { invalidRequest, WartaError } from '../errors.js';
import type { FormParams } from '../http/form.js';
import type { Deps } from '../deps.js';
import { revokeSession } from '../sessions/service.js';
import { finishChallengeAuthentication, startAuthentication } from '../webauthn/authenticate.js';
import { acrSatisfies, requestedAcrValues, requiredAcr } from '../oidc/checks/acr.js';
import { checkPkceRequest } from '../oidc/checks/pkce.js';
import { checkRequestedScope } from '../oidc/checks/scope.js';
import { issueAuthorizationCode } from '../oidc/authorize/issue-code.js';
import { refuseOtherOrganisation, refuseUnmetRequirements } from '../oidc/authorize/interaction.js';

/** What an auth_session keeps between the two calls (stored as `params` of a `challenge` authorization request). */
interface AuthSession {
  scopes: string[];
  code_challenge: string;
  nonce: string | null;
  required_acr: string | null;
  requested_acr_values: string[];
  device_name: string | null;
  /** RFC 9449: the key every later call, and the code, is bound to. */
  dpop_jkt: string;
  /** SHA-256 of the one passkey challenge this auth_session accepts an answer to. */
  challenge_hash: string;
}

/** §5.2.2 `insufficient_authorization`: the passkey ceremony the app runs next. */
export interface PasskeyRequired {
  error: 'insufficient_authorization';
  error_description: string;
  auth_session: string;
  expires_in: number;
  /** Warta extension: PublicKeyCredentialRequestOptionsJSON for the platform passkey API. */
  webauthn_options: PublicKeyCredentialRequestOptionsJSON;
}

export interface AuthorizationChallengeRequest {
  client: OAuthClient;
  form: FormParams;
  /** Thumbprint of the request's verified DPoP proof key; undefined without a DPoP header. */
  jkt: string | undefined;
  /** The `webauthn_response` parameter, parsed from JSON by the route. */
  credential: unknown;
  context: AuditContext;
}

const invalidSession = (description: string) => new WartaError(400, 'invalid_session', description);

/** The checks every call makes: the client's mark and the DPoP key. */
function checkChallengeClient(client: OAuthClient, jkt: string | undefined): string {
  if (!client.first_party_native) throw new WartaError(400, 'unauthorized_client', 'this client may not sign users in without a browser; use the authorization endpoint');
  // A public client has no other proof of who is calling: the DPoP key stands in for it from the first call to the token.
  if (jkt === undefined) throw new WartaError(400, 'invalid_dpop_proof', 'the authorization challenge endpoint needs a DPoP proof');
  return jkt;
}

/** Step 1: stores the request as an auth_session and asks for a passkey. */
export async function startAuthorizationChallenge(deps: Deps, input: Pick<AuthorizationChallengeRequest, 'client' | 'form' | 'jkt'>): Promise<PasskeyRequired> {
  const { client, form } = input;
  const jkt = checkChallengeClient(client, input.jkt);
  if (form.has('webauthn_response')) throw invalidRequest('webauthn_response needs the auth_session it answers');
  const scopes = checkRequestedScope(form.get('scope'), client.scope);
  const { codeChallenge } = checkPkceRequest({ codeChallenge: form.get('code_challenge'), codeChallengeMethod: form.get('code_challenge_method') });
  const acrValues = form.get('acr_values');

  const options = await startAuthentication(deps, { username: form.get('login_hint')?.slice(0, 256) }, 'authorization_challenge');
  const authSession = newToken();
  const now = deps.clock.now();
  const ttlSeconds = deps.config.webauthn.challengeTtlSeconds;
  const stored: AuthSession = {
    scopes,
    code_challenge: codeChallenge,
    nonce: form.get('nonce') ?? null,
    required_acr: requiredAcr(acrValues, client.required_acr) ?? null,
    requested_acr_values: requestedAcrValues(acrValues, client.required_acr),
    device_name: form.get('device_name')?.slice(0, 64) ?? null,
    dpop_jkt: jkt,
    challenge_hash: hashToken(options.challenge),
  };
  await deps.db
    .insertInto('oauth_authorization_requests')
    .values({ id_hash: hashToken(authSession), kind: 'challenge', client_id: client.client_id, params: json(stored), created_at: now, expires_at: addSeconds(now, ttlSeconds), used_at: null })
    .execute();
  return {
    error: 'insufficient_authorization',
    error_description: 'sign in with a passkey: run the WebAuthn request in webauthn_options and send the result as webauthn_response with this auth_session',
    auth_session: authSession,
    expires_in: ttlSeconds,
    webauthn_options: options,
  };
}

/** Step 2: verifies the passkey assertion for the auth_session and issues the code. */
export async function completeAuthorizationChallenge(deps: Deps, input: AuthorizationChallengeRequest): Promise<{ authorization_code: string }> {
  const { client, form, context } = input;
  const jkt = checkChallengeClient(client, input.jkt);
  const authSession = form.require('auth_session');
  if (input.credential === undefined) throw invalidRequest('webauthn_response is required with auth_session');
  const stored = await findAuthSession(deps, client.client_id, authSession);
  if (!stored) throw invalidSession('the auth_session is unknown, expired or already used; start again without one');
  // RFC 9449 §4.3 by analogy: a stolen auth_session is useless without the key it was bound to.
  if (stored.dpop_jkt !== jkt) throw invalidSession('the auth_session is bound to another DPoP key');

  const { session, user } = await finishChallengeAuthentication(deps, { context, previousSession: undefined }, { credential: input.credential, challengeHash: stored.challenge_hash });
  try {
    await refuseOtherOrganisation(deps, context, client, user);
    await refuseUnmetRequirements(deps, context, client, user);
    if (!acrSatisfies(session.acr, stored.required_acr ?? undefined)) throw new WartaError(400, 'unmet_authentication_requirements', 'this passkey does not meet the sign-in method the application requires');
  } catch (refusal) {
    // The session exists only to carry this code's grant; with no code it would be a stray entry in the user's sessions.
    await revokeSession(deps.db, deps.clock, session.id, 'refused_for_client');
    throw refusal;
  }

  const code = await issueAuthorizationCode(deps, context, {
    request: {
      clientId: client.client_id,
      redirectUri: null,
      scopes: stored.scopes,
      nonce: stored.nonce ?? undefined,
      codeChallenge: stored.code_challenge,
      requestedAcrValues: stored.requested_acr_values,
      dpopJkt: stored.dpop_jkt,
      deviceName: stored.device_name ?? undefined,
    },
    clientName: client.client_name,
    session,
    // Marked used in the code's transaction (`used_at IS NULL`): one auth_session, one code.
    pendingRequestId: authSession,
  });
  return { authorization_code: code };
}

async function findAuthSession(deps: Pick<Deps, 'db' | 'clock'>, clientId: string, authSession: string): Promise<AuthSession | undefined> {
  if (authSession.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const row = await deps.db
    .selectFrom('oauth_authorization_requests')
    .select('params')
    .where('id_hash', '=', hashToken(authSession))
    .where('kind', '=', 'challenge')
    .where('client_id', '=', clientId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', deps.clock.now())
    .executeTakeFirst();
  return row?.params as unknown as AuthSession | undefined;
}
