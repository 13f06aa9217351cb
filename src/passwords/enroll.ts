import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Invitation, Session, User } from '../db/schema.js';
import { assertNotThrottled } from '../throttle/counters.js';
import { findUsableInvitation, redeemInvitation, usernameFor } from '../invitations/service.js';
import { resolvePolicy } from '../orgs/policy.js';
import { getOrganisation } from '../orgs/service.js';
import type { Deps } from '../deps.js';
import { completeSignIn, type SignedIn, type SignInRequest } from '../sessions/sign-in.js';
import { activateTotpSetup, createTotpSetup, findTotpSetup, matchSetupCode, recordSetupCodeFailure, type TotpDeps, type TotpSetupView, totpSettingsFor, wrongSetupCode } from '../totp/service.js';
import { hashPassword } from './hash.js';
import type { PasswordEnrollmentInput } from './input.js';
import { methodRefusal } from '../orgs/method-policy.js';
import { checkNewPassword, minimumLength, PASSWORD_AMR, type PasswordDeps, storePasswordHash } from './service.js';

/**
 * Enrollment by invitation with a password and an authenticator app, for
 * people who cannot use a passkey. Two steps: `start` shows a TOTP secret held
 * in a set-up row tied to the invitation; `finish` takes the password and a
 * code, and in one transaction consumes the invitation, creates the user and
 * stores both credentials, then signs them in.
 */

/** The invitation, when its organisation and role allow enrolling with a password. */
async function passwordInvitation(deps: TotpDeps, token: string) {
  const invitation = await findUsableInvitation(deps.db, deps.clock, token);
  const organisation = await getOrganisation(deps.db, invitation.organisation_id);
  const policy = resolvePolicy(organisation.policy);
  const refusal = methodRefusal('password', policy, [invitation.role]);
  if (refusal) throw refusal;
  return { invitation, organisation, settings: totpSettingsFor(policy) };
}

const invitee = (invitation: Invitation): Pick<User, 'username' | 'email' | 'display_name'> => ({ username: usernameFor(invitation), email: invitation.email, display_name: invitation.display_name });

export interface PasswordEnrollmentStart extends TotpSetupView {
  username: string;
  display_name: string;
  organisation: string;
  min_password_length: number;
}

export async function startPasswordEnrollment(deps: TotpDeps, context: AuditContext, token: string): Promise<PasswordEnrollmentStart> {
  const { invitation, organisation, settings } = await passwordInvitation(deps, token);
  const username = usernameFor(invitation);
  const view = await deps.db.transaction().execute(async (trx) => {
    const started = await createTotpSetup(trx, deps, { invitationId: invitation.id }, username, settings);
    await appendAudit(trx, deps, context, { action: 'enrollment.password_started', subject: `invitation:${invitation.id}`, details: { expires_at: started.expires_at } });
    return started;
  });
  return { ...view, username, display_name: invitation.display_name, organisation: organisation.name, min_password_length: minimumLength() };
}

export async function finishPasswordEnrollment(deps: Deps, request: SignInRequest, input: PasswordEnrollmentInput): Promise<SignedIn & { user: User }> {
  const { context } = request;
  const { invitationToken: token, password, code } = input;
  const { invitation } = await passwordInvitation(deps, token);
  const key = `enroll:invitation:${invitation.id}`;
  await assertNotThrottled(deps.db, deps.clock, key);
  const owner = { invitationId: invitation.id };
  const setup = await findTotpSetup(deps.db, deps.clock, owner);
  checkNewPassword(deps.passwordBlocklist, invitee(invitation), password);
  const step = matchSetupCode(deps, setup, owner, code);
  if (step === null) {
    await recordSetupCodeFailure(deps, context, key, `invitation:${invitation.id}`);
    throw wrongSetupCode();
  }
  const hash = await deps.passwordHashing.run(() => hashPassword(password, deps.config.passwords.argon2));
  return deps.db.transaction().execute(async (trx) => {
    const { user } = await redeemInvitation(trx, deps, context, token);
    const asUser = { ...context, actor: `user:${user.id}` };
    await storePasswordHash(trx, deps.clock, user.id, hash);
    await appendAudit(trx, deps, asUser, { action: 'password.set', subject: `user:${user.id}`, details: { via: 'enrollment' } });
    const { credential } = await activateTotpSetup(trx, deps, setup, owner, user.id, step);
    await appendAudit(trx, deps, asUser, { action: 'totp.enrolled', subject: `user:${user.id}`, details: { via: 'enrollment', credential_id: credential.id, algorithm: credential.algorithm, digits: credential.digits, period: credential.period } });
    const signedIn = await completeSignIn(deps, trx, request, { userId: user.id, amr: PASSWORD_AMR, method: 'enrollment:password+totp' });
    return { ...signedIn, user };
  });
}
