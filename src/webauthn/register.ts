/**
 * Registration ceremonies (WebAuthn §7.1): enrollment from an invitation, which
 * creates the account and signs it in, and adding a passkey to a signed-in account.
 */
import { type PublicKeyCredentialCreationOptionsJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { hashToken, newId, newToken } from '../crypto/random.js';
import { type Database, json, type Session, type User, type WebauthnCeremony, type WebauthnChallenge, type WebauthnCredential } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { findUsableInvitation, redeemInvitation, usernameFor } from '../invitations/service.js';
import { resolvePolicy } from '../orgs/policy.js';
import { getOrganisation } from '../orgs/service.js';
import type { Deps } from '../deps.js';
import { assertRecentlyAuthenticated } from '../sessions/reauth.js';
import { completeSignIn, type SignedIn, type SignInRequest } from '../sessions/sign-in.js';
import { passkeyAmr } from './amr.js';
import { type Binding, INVITATION_BINDING, passkeyAcrCeiling, sessionBinding } from './binding.js';
import { assertAttestationSupported, attestationPolicyOf, checkAttestationPolicy, responseForVerification } from './attestation.js';
import { type ChallengeBinding, consumeChallenge, issueChallenge } from './challenges.js';
import { checkAuthenticatorData, checkClientData, malformed, readAttestationObject, readClientData, readRegistrationResponse } from './checks.js';
import { ensureUserHandle, listPasskeys, passkeyName } from './credentials.js';
import { auditingRegistrationFailure } from './failures.js';
import type { AttestationPolicy } from './metadata.js';
import { creationOptions, SUPPORTED_ALGORITHMS } from './options.js';

export async function organisationAttestation(deps: Deps, organisationId: string): Promise<AttestationPolicy> {
  const policy = attestationPolicyOf(resolvePolicy((await getOrganisation(deps.db, organisationId)).policy));
  assertAttestationSupported(policy, deps.fidoMetadata);
  return policy;
}

/** Options for the invitee's first passkey. The user does not exist yet: the invitation stands in for them. */
export async function startEnrollment(deps: Deps, invitationToken: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const invitation = await findUsableInvitation(deps.db, deps.clock, invitationToken);
  const attestation = await organisationAttestation(deps, invitation.organisation_id);
  const userHandle = newToken(32);
  const { challenge } = await issueChallenge(deps.db, deps, { ceremony: 'enrollment', binding: { invitationId: invitation.id }, userHandle });
  return creationOptions(deps.config, { challenge, userHandle, userName: usernameFor(invitation), displayName: invitation.display_name, exclude: [], attestation });
}

/**
 * Verifies the first passkey, then in one transaction: consumes the invitation
 * (creating the user), stores the passkey, and signs the new user in. A second
 * use of the invitation, or of the challenge, stores nothing.
 */
export async function finishEnrollment(deps: Deps, request: SignInRequest, input: { invitationToken: string; credential: unknown; name: string | undefined }): Promise<SignedIn & { user: User; passkey: WebauthnCredential }> {
  const { context } = request;
  const name = passkeyName(input.name);
  const invitation = await findUsableInvitation(deps.db, deps.clock, input.invitationToken);
  const verified = await auditingRegistrationFailure(deps, context, `invitation:${invitation.id}`, {}, async () => {
    const attestation = await organisationAttestation(deps, invitation.organisation_id);
    return verifyNewCredential(deps, input.credential, { ceremony: 'enrollment', binding: { invitationId: invitation.id }, attestation });
  });
  return deps.db.transaction().execute(async (trx) => {
    const { user } = await redeemInvitation(trx, deps, context, input.invitationToken);
    await ensureUserHandle(trx, deps.clock, user.id, verified.challenge.user_handle!);
    const passkey = await storePasskey(trx, deps, { ...context, actor: `user:${user.id}` }, { userId: user.id, verified, name, binding: INVITATION_BINDING });
    const signedIn = await completeSignIn(deps, trx, request, { userId: user.id, amr: passkeyAmr(passkey, verified.userVerified), acrCeiling: passkeyAcrCeiling(passkey), method: 'passkey' });
    return { ...signedIn, user, passkey };
  });
}

/** Options for another passkey on a signed-in account. */
export async function startRegistration(deps: Deps, input: { session: Session; user: User }): Promise<PublicKeyCredentialCreationOptionsJSON> {
  assertRecentlyAuthenticated(input.session, deps.clock);
  const attestation = await organisationAttestation(deps, input.user.organisation_id);
  const userHandle = await ensureUserHandle(deps.db, deps.clock, input.user.id);
  const binding = { userId: input.user.id, sessionId: input.session.id };
  const { challenge } = await issueChallenge(deps.db, deps, { ceremony: 'registration', binding, userHandle });
  const exclude = await listPasskeys(deps.db, input.user.id);
  return creationOptions(deps.config, { challenge, userHandle, userName: input.user.username, displayName: input.user.display_name, exclude, attestation });
}

export async function finishRegistration(deps: Deps, context: AuditContext, input: { session: Session; user: User; credential: unknown; name: string | undefined }): Promise<WebauthnCredential> {
  const { session, user } = input;
  const name = passkeyName(input.name);
  const verified = await auditingRegistrationFailure(deps, context, `user:${user.id}`, { userId: user.id }, async () => {
    assertRecentlyAuthenticated(session, deps.clock);
    const attestation = await organisationAttestation(deps, user.organisation_id);
    return verifyNewCredential(deps, input.credential, { ceremony: 'registration', binding: { userId: user.id, sessionId: session.id }, attestation });
  });
  // Bound at the session's own assurance: a password + TOTP session adds a passkey that signs in at `mfa` until confirmed (binding.ts).
  return deps.db.transaction().execute((trx) => storePasskey(trx, deps, context, { userId: user.id, verified, name, binding: sessionBinding(session) }));
}

export interface VerifiedCredential {
  challenge: WebauthnChallenge;
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
  aaguid: string;
  fmt: string;
  authenticatorName: string | undefined;
  backupEligible: boolean;
  backedUp: boolean;
  userVerified: boolean;
}

/** §7.1, in order: challenge (spent once), client data, authenticator data, attestation, then the organisation's policy. */
export async function verifyNewCredential(deps: Deps, body: unknown, input: { ceremony: WebauthnCeremony; binding: ChallengeBinding; attestation: AttestationPolicy }): Promise<VerifiedCredential> {
  const response = readRegistrationResponse(body);
  const clientData = readClientData(response.response.clientDataJSON);
  const challenge = await consumeChallenge(deps.db, deps.clock, { challenge: clientData.challenge, ceremony: input.ceremony, binding: input.binding, sealKey: deps.challengeSealKey });
  checkClientData(clientData, { type: 'webauthn.create', origins: deps.config.webauthn.allowedOrigins });
  const decoded = readAttestationObject(response.response.attestationObject);
  if (Buffer.from(decoded.authData.credentialID!).toString('base64url') !== response.id) throw malformed('credential.id is not the ID of the credential in the attestation');
  checkAuthenticatorData(decoded.authData, deps.config.webauthn.rpId);
  const toVerify = responseForVerification(response, decoded, input.attestation);

  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: toVerify,
      expectedChallenge: (answered) => hashToken(answered) === challenge.challenge_hash,
      expectedOrigin: deps.config.webauthn.allowedOrigins,
      expectedRPID: deps.config.webauthn.rpId,
      expectedType: 'webauthn.create',
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch (error) {
    throw new WartaError(400, 'attestation_invalid', 'the new passkey could not be verified', { detail: error instanceof Error ? error.message : String(error), cause: error });
  }
  if (!verification.verified) throw new WartaError(400, 'attestation_invalid', 'the new passkey could not be verified');
  const info = verification.registrationInfo;
  const decision = checkAttestationPolicy(input.attestation, info, deps.fidoMetadata, deps.clock.now());
  return {
    challenge,
    credentialId: info.credential.id,
    publicKey: info.credential.publicKey,
    signCount: info.credential.counter,
    transports: (response.response.transports ?? []).slice(0, 10),
    aaguid: info.aaguid,
    fmt: info.fmt,
    authenticatorName: decision.authenticatorName,
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp,
    userVerified: info.userVerified,
  };
}

/** `name` is already checked (passkeyName); empty means "name it after the authenticator". */
export async function storePasskey(trx: Transaction<Database>, deps: Deps, context: AuditContext, input: { userId: string; verified: VerifiedCredential; name: string; binding: Binding }): Promise<WebauthnCredential> {
  const { verified, binding } = input;
  const passkey = await trx
    .insertInto('webauthn_credentials')
    .values({
      id: newId(),
      user_id: input.userId,
      credential_id: verified.credentialId,
      public_key: Buffer.from(verified.publicKey).toString('base64url'),
      sign_count: verified.signCount,
      transports: json(verified.transports),
      aaguid: verified.aaguid,
      attestation_fmt: verified.fmt,
      authenticator_name: verified.authenticatorName ?? null,
      backup_eligible: verified.backupEligible,
      backed_up: verified.backedUp,
      name: input.name || verified.authenticatorName || (verified.backupEligible ? 'Synced passkey' : 'Passkey'),
      created_at: deps.clock.now(),
      last_used_at: null,
      revoked_at: null,
      blocked_at: null,
      blocked_reason: null,
      bound_acr: binding.boundAcr,
      bound_via: binding.via,
      confirmed_at: null,
      confirmed_by: null,
    })
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!passkey) throw new WartaError(409, 'credential_exists', 'this passkey is already registered');
  await appendAudit(trx, deps, context, {
    action: 'passkey.registered',
    subject: `user:${input.userId}`,
    details: { passkey_id: passkey.id, aaguid: passkey.aaguid, fmt: passkey.attestation_fmt, backup_eligible: passkey.backup_eligible, name: passkey.name, bound_acr: passkey.bound_acr, bound_via: passkey.bound_via },
  });
  return passkey;
}
