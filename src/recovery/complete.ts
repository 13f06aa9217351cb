/**
 * Finishing a recovery with the enrollment grant a redeemed code gave: a new
 * passkey (always offered) or a password with an authenticator app (where the
 * organisation allows them). One transaction consumes the grant, stores the new
 * credential, ends every old session, grant and refresh token (always), revokes
 * the old credentials (per policy), starts the privilege cooldown, closes the
 * case, raises the events and signs the user in; a failure anywhere leaves the
 * grant usable.
 */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH } from '../crypto/random.js';
import type { Database, RecoveryCase, Role, User, WebauthnCredential } from '../db/schema.js';
import { raiseSecurityEvent } from '../events/raise.js';
import type { SecurityEventDetails } from '../events/types.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { completeSignIn, type SignedIn, type SignInRequest } from '../sessions/sign-in.js';
import { assertMethodAllowed, methodRefusal } from '../orgs/method-policy.js';
import type { OrganisationPolicy } from '../orgs/policy.js';
import { organisationPolicyOf } from '../orgs/service.js';
import { assertNotThrottled } from '../throttle/counters.js';
import { hashPassword } from '../passwords/hash.js';
import { checkNewPassword, minimumLength, PASSWORD_AMR, storePasswordHash } from '../passwords/service.js';
import { activateTotpSetup, createTotpSetup, findTotpSetup, matchSetupCode, recordSetupCodeFailure, type TotpSetupView, totpSettingsFor, wrongSetupCode } from '../totp/service.js';
import { passkeyAmr } from '../webauthn/amr.js';
import { RECOVERY_BINDING } from '../webauthn/binding.js';
import { issueChallenge } from '../webauthn/challenges.js';
import { ensureUserHandle, listPasskeys, passkeyName } from '../webauthn/credentials.js';
import { auditingRegistrationFailure } from '../webauthn/failures.js';
import { creationOptions } from '../webauthn/options.js';
import { organisationAttestation, storePasskey, verifyNewCredential } from '../webauthn/register.js';
import { recordCaseChange } from './cases.js';
import type { RecoveryPasskeyInput, RecoveryPasswordInput } from './input.js';
import { recoveryPolicyOf } from './policy.js';
import { endOldSessions, type KeptCredentials, type RevokedAtRecovery, revokeOldCredentials } from './revoke.js';

export type RecoveryMethod = 'passkey' | 'password_totp';

const grantInvalid = () => new WartaError(400, 'recovery_grant_invalid', 'this recovery is no longer in progress; enter your code again, or go back to the recovery desk');

export interface GrantHolder {
  recoveryCase: RecoveryCase;
  user: User;
}

/** The case a grant belongs to, while it is redeemed and the grant unexpired. */
export async function findRecoveryGrant(deps: Pick<Deps, 'db' | 'clock'>, grant: string): Promise<GrantHolder> {
  if (grant.length > MAX_ISSUED_TOKEN_LENGTH) throw grantInvalid();
  const recoveryCase = await deps.db.selectFrom('recovery_cases').selectAll().where('grant_hash', '=', hashToken(grant)).where('status', '=', 'redeemed').executeTakeFirst();
  if (!recoveryCase) throw grantInvalid();
  if (recoveryCase.grant_expires_at! <= deps.clock.now()) throw new WartaError(410, 'recovery_grant_expired', 'this recovery took too long; go back to the recovery desk for a new code');
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', recoveryCase.user_id).where('status', '=', 'active').executeTakeFirst();
  if (!user) throw grantInvalid();
  return { recoveryCase, user };
}

/** The ways this user may enroll at the end of a recovery: a passkey always; a password with TOTP where their organisation and roles allow. */
export function recoveryMethods(policy: OrganisationPolicy, roles: readonly Role[]): RecoveryMethod[] {
  return methodRefusal('password', policy, roles) ? ['passkey'] : ['passkey', 'password_totp'];
}

interface NewCredentials<T> {
  keep: KeptCredentials;
  amr: string[];
  changes: SecurityEventDetails['credential_change'][];
  result: T;
}

/** The one transaction at the end of every recovery (see the file comment). */
async function completeRecovery<T>(deps: Deps, request: SignInRequest, holder: GrantHolder, grant: string, method: RecoveryMethod, storeNew: (trx: Transaction<Database>, context: AuditContext) => Promise<NewCredentials<T>>) {
  const { user } = holder;
  const context = { ...request.context, actor: `user:${user.id}` };
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const closed = await trx
      .updateTable('recovery_cases')
      .set({ status: 'completed', closed_at: now, closed_by: user.id, close_reason: 'recovered' })
      .where('id', '=', holder.recoveryCase.id)
      .where('status', '=', 'redeemed')
      .where('grant_hash', '=', hashToken(grant))
      .where('grant_expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!closed) throw grantInvalid();
    const stored = await storeNew(trx, context);
    const policy = await recoveryPolicyOf(trx, closed.organisation_id);
    const credentials = policy.revokesOldCredentials ? await revokeOldCredentials(trx, deps.clock, user.id, stored.keep) : { passkeys: 0, totp: 0, password: 0 };
    const revoked: RevokedAtRecovery = { ...credentials, ...(await endOldSessions(trx, deps.clock, user.id)) };
    // Starts the cooldown on admin and officer actions (src/sessions/privilege.ts).
    await trx.updateTable('users').set({ recovered_at: now }).where('id', '=', user.id).execute();
    await recordCaseChange(trx, deps, context, closed, { action: 'recovery.completed', event: 'account_recovered', initiatingEntity: 'user', details: { method, revoked, old_credentials_kept: !policy.revokesOldCredentials } });
    const raise = { userId: user.id, organisationId: user.organisation_id, ip: context.ip ?? null, initiatingEntity: 'user' as const };
    for (const change of stored.changes) await raiseSecurityEvent(trx, deps.clock, { ...raise, type: 'credential_change', details: change });
    if (revoked.sessions) await raiseSecurityEvent(trx, deps.clock, { ...raise, type: 'sessions_revoked', details: {} });
    const signedIn = await completeSignIn(deps, trx, request, { userId: user.id, amr: stored.amr, method: `recovery:${method}` });
    return { ...signedIn, user, result: stored.result };
  });
}

/** Creation options for the new passkey. Old passkeys are not excluded when the recovery revokes them: the person may be re-registering the same key. */
export async function startRecoveryPasskey(deps: Deps, grant: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { recoveryCase, user } = await findRecoveryGrant(deps, grant);
  const attestation = await organisationAttestation(deps, user.organisation_id);
  const policy = await recoveryPolicyOf(deps.db, recoveryCase.organisation_id);
  const userHandle = await ensureUserHandle(deps.db, deps.clock, user.id);
  const { challenge } = await issueChallenge(deps.db, deps, { ceremony: 'recovery', binding: { userId: user.id }, userHandle });
  const exclude = policy.revokesOldCredentials ? [] : await listPasskeys(deps.db, user.id);
  return creationOptions(deps.config, { challenge, userHandle, userName: user.username, displayName: user.display_name, exclude, attestation });
}

const passkeyCreated = (passkey: WebauthnCredential): SecurityEventDetails['credential_change'] => ({
  changeType: 'create',
  credentialType: passkey.transports.includes('internal') || passkey.transports.includes('hybrid') ? 'fido2-platform' : 'fido2-roaming',
  friendlyName: passkey.name,
  fido2Aaguid: passkey.aaguid,
});

export async function finishRecoveryPasskey(deps: Deps, request: SignInRequest, input: RecoveryPasskeyInput): Promise<SignedIn & { user: User; passkey: WebauthnCredential }> {
  const name = passkeyName(input.name);
  const holder = await findRecoveryGrant(deps, input.grant);
  const { user } = holder;
  const verified = await auditingRegistrationFailure(deps, request.context, `user:${user.id}`, { userId: user.id }, async () => {
    const attestation = await organisationAttestation(deps, user.organisation_id);
    return verifyNewCredential(deps, input.credential, { ceremony: 'recovery', binding: { userId: user.id }, attestation });
  });
  const done = await completeRecovery(deps, request, holder, input.grant, 'passkey', async (trx, context) => {
    const passkey = await storePasskey(trx, deps, context, { userId: user.id, verified, name, binding: RECOVERY_BINDING });
    return { keep: { passkeyId: passkey.id }, amr: passkeyAmr(passkey, verified.userVerified), changes: [passkeyCreated(passkey)], result: passkey };
  });
  return { user: done.user, session: done.session, token: done.token, passkey: done.result };
}

export interface RecoveryPasswordStart extends TotpSetupView {
  username: string;
  min_password_length: number;
}

/** Shows a fresh TOTP secret for the password path; the set-up is the user's own (replacing any pending one). */
export async function startRecoveryPassword(deps: Deps, context: AuditContext, grant: string): Promise<RecoveryPasswordStart> {
  const { user, recoveryCase } = await findRecoveryGrant(deps, grant);
  await assertMethodAllowed(deps.db, user, 'password');
  const settings = totpSettingsFor(await organisationPolicyOf(deps.db, user));
  const view = await deps.db.transaction().execute(async (trx) => {
    const started = await createTotpSetup(trx, deps, { userId: user.id }, user.username, settings);
    await appendAudit(trx, deps, { ...context, actor: `user:${user.id}` }, { action: 'recovery.password_started', subject: `user:${user.id}`, details: { case_id: recoveryCase.id, expires_at: started.expires_at } });
    return started;
  });
  return { ...view, username: user.username, min_password_length: minimumLength() };
}

export async function finishRecoveryPassword(deps: Deps, request: SignInRequest, input: RecoveryPasswordInput): Promise<SignedIn & { user: User }> {
  const { grant, password, code } = input;
  const holder = await findRecoveryGrant(deps, grant);
  const { user } = holder;
  await assertMethodAllowed(deps.db, user, 'password');
  const key = `recovery:totp:${holder.recoveryCase.id}`;
  await assertNotThrottled(deps.db, deps.clock, key);
  const owner = { userId: user.id };
  const setup = await findTotpSetup(deps.db, deps.clock, owner);
  checkNewPassword(deps.passwordBlocklist, user, password);
  const step = matchSetupCode(deps, setup, owner, code);
  if (step === null) {
    await recordSetupCodeFailure(deps, request.context, key, `user:${user.id}`);
    throw wrongSetupCode();
  }
  const hash = await deps.passwordHashing.run(() => hashPassword(password, deps.config.passwords.argon2));
  const done = await completeRecovery(deps, request, holder, grant, 'password_totp', async (trx, context) => {
    const { credential } = await activateTotpSetup(trx, deps, setup, owner, user.id, step);
    await storePasswordHash(trx, deps.clock, user.id, hash);
    await appendAudit(trx, deps, context, { action: 'password.set', subject: `user:${user.id}`, details: { via: 'recovery' } });
    await appendAudit(trx, deps, context, { action: 'totp.enrolled', subject: `user:${user.id}`, details: { via: 'recovery', credential_id: credential.id, algorithm: credential.algorithm, digits: credential.digits, period: credential.period } });
    return {
      keep: { totpCredentialId: credential.id, password: true },
      amr: PASSWORD_AMR,
      changes: [
        { changeType: 'create', credentialType: 'password' },
        { changeType: 'create', credentialType: 'app' },
      ],
      result: undefined,
    };
  });
  return { user: done.user, session: done.session, token: done.token };
}
