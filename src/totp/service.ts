import type { Config } from '../config.js';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Database, Session, TotpCredentialsTable, TotpSetupsTable, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { assertNotThrottled, recordFailure } from '../throttle/counters.js';
import { assertMethodAllowed } from '../orgs/method-policy.js';
import { removeFactorAfterStrongProof } from '../sessions/reauth.js';
import type { OrganisationPolicy } from '../orgs/policy.js';
import { organisationPolicyOf } from '../orgs/service.js';
import { accountFailurePolicy } from '../throttle/passwords.js';
import { buildOtpauthUri, findMatchingTimeStep, formatSecretForDisplay, generateTotpSecret, renderQrSvg, type TotpSettings } from './totp.js';


export type TotpCredential = Selectable<TotpCredentialsTable>;
export type TotpSetup = Selectable<TotpSetupsTable>;

export interface TotpDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  box: SecretBox;
  config: Pick<Config, 'webauthn' | 'totp' | 'throttle'>;
  metrics: Metrics;
}

/** Who a pending set-up belongs to: a signed-in user, or an invitation being redeemed. */
export type SetupOwner = { userId: string } | { invitationId: string };

const ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;

/** The organisation's TOTP parameters; a stored policy outside what apps support fails closed. */
export function totpSettingsFor(policy: OrganisationPolicy): TotpSettings {
  const { totpAlgorithm: algorithm, totpDigits: digits, totpPeriod: period } = policy;
  if (!ALGORITHMS.includes(algorithm) || ![6, 7, 8].includes(digits) || !Number.isInteger(period) || period < 15 || period > 300)
    throw new WartaError(500, 'policy_invalid', 'the organisation TOTP policy is invalid', { detail: `totp ${String(algorithm)}/${String(digits)}/${String(period)}` });
  return { algorithm, digits, period };
}

const settingsOf = (row: Pick<TotpCredential, 'algorithm' | 'digits' | 'period'>): TotpSettings => ({ algorithm: row.algorithm, digits: row.digits as TotpSettings['digits'], period: row.period });

const setupContext = (owner: SetupOwner) => ('userId' in owner ? `totp setup user:${owner.userId}` : `totp setup invitation:${owner.invitationId}`);
const credentialContext = (credentialId: string) => `totp ${credentialId}`;

export interface TotpSetupView {
  otpauth_uri: string;
  /** base32, in groups of four, for typing in. */
  secret: string;
  qr_svg: string;
  algorithm: TotpSettings['algorithm'];
  digits: number;
  period: number;
  expires_at: string;
}

/**
 * A fresh 160-bit secret, stored sealed as the owner's one pending set-up
 * (replacing an earlier one): it becomes a credential only once the user proves
 * their app has it by entering a code.
 */
export async function createTotpSetup(trx: Transaction<Database>, deps: Omit<TotpDeps, 'db'>, owner: SetupOwner, accountName: string, settings: TotpSettings): Promise<TotpSetupView> {
  const secret = generateTotpSecret();
  const otpauthUri = buildOtpauthUri({ secret, issuer: deps.config.webauthn.rpName, accountName, settings });
  const now = deps.clock.now();
  const row = {
    secret_enc: deps.box.seal(secret, setupContext(owner)),
    ...settings,
    created_at: now,
    expires_at: addSeconds(now, deps.config.totp.setupTtlSeconds),
  };
  const ownerColumn = 'userId' in owner ? 'user_id' : 'invitation_id';
  await trx
    .insertInto('totp_setups')
    .values({ id: newId(), user_id: 'userId' in owner ? owner.userId : null, invitation_id: 'invitationId' in owner ? owner.invitationId : null, ...row })
    .onConflict((oc) => oc.column(ownerColumn).doUpdateSet(row))
    .execute();
  return {
    otpauth_uri: otpauthUri,
    secret: formatSecretForDisplay(secret),
    qr_svg: renderQrSvg(otpauthUri),
    algorithm: settings.algorithm,
    digits: settings.digits,
    period: settings.period,
    expires_at: row.expires_at.toISOString(),
  };
}

/** Starts (or restarts) setting up an authenticator app for the signed-in user. */
export async function startTotpSetup(deps: TotpDeps, context: AuditContext, user: { id: string; organisation_id: string; username: string }): Promise<TotpSetupView> {
  await assertMethodAllowed(deps.db, user, 'totp');
  const settings = totpSettingsFor(await organisationPolicyOf(deps.db, user));
  return deps.db.transaction().execute(async (trx) => {
    const view = await createTotpSetup(trx, deps, { userId: user.id }, user.username, settings);
    await appendAudit(trx, deps, context, { action: 'totp.setup_started', subject: `user:${user.id}`, details: { expires_at: view.expires_at } });
    return view;
  });
}

/** The owner's pending set-up, or why there is none. */
export async function findTotpSetup(db: Db, clock: Clock, owner: SetupOwner): Promise<TotpSetup> {
  const setups = db.selectFrom('totp_setups').selectAll();
  const setup = await ('userId' in owner ? setups.where('user_id', '=', owner.userId) : setups.where('invitation_id', '=', owner.invitationId)).executeTakeFirst();
  if (!setup) throw new WartaError(409, 'totp_setup_missing', 'start the authenticator app set-up first');
  if (setup.expires_at <= clock.now()) throw new WartaError(410, 'totp_setup_expired', 'the set-up took too long; start again to get a new QR code');
  return setup;
}

/** The time step `code` matches for the pending set-up, or null. Throws `invalid_code_format` for malformed codes. */
export function matchSetupCode(deps: Pick<TotpDeps, 'box' | 'clock' | 'config'>, setup: TotpSetup, owner: SetupOwner, code: string): number | null {
  const secret = deps.box.open(setup.secret_enc, setupContext(owner));
  return findMatchingTimeStep({ secret, code, settings: settingsOf(setup), now: deps.clock.now(), window: deps.config.totp.window });
}

/**
 * Turns the set-up into the user's active credential, replacing any earlier
 * one. Deleting the set-up row is the single-use gate: of two concurrent
 * confirmations only one gets the row back. The confirming step counts as used,
 * so the code typed to confirm cannot also sign in.
 */
export async function activateTotpSetup(trx: Transaction<Database>, deps: Omit<TotpDeps, 'db'>, setup: TotpSetup, owner: SetupOwner, userId: string, step: number): Promise<{ credential: TotpCredential; replaced: boolean }> {
  const claimed = await trx.deleteFrom('totp_setups').where('id', '=', setup.id).where('secret_enc', '=', setup.secret_enc).returning('id').executeTakeFirst();
  if (!claimed) throw new WartaError(409, 'totp_setup_missing', 'this set-up was already completed or replaced; start again');
  const secret = deps.box.open(setup.secret_enc, setupContext(owner));
  const replaced = await trx.deleteFrom('totp_credentials').where('user_id', '=', userId).executeTakeFirst();
  const id = newId();
  const now = deps.clock.now();
  const credential = await trx
    .insertInto('totp_credentials')
    .values({ id, user_id: userId, secret_enc: deps.box.seal(secret, credentialContext(id)), ...settingsOf(setup), last_used_step: step, created_at: now, last_used_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { credential, replaced: Number(replaced.numDeletedRows) > 0 };
}

/** Counts a wrong set-up code against `key`, with its audit entry, in one transaction. */
export async function recordSetupCodeFailure(deps: TotpDeps, context: AuditContext, key: string, subject: string): Promise<void> {
  const locked = await deps.db.transaction().execute(async (trx) => {
    const outcome = await recordFailure(trx, deps.clock, key, accountFailurePolicy(deps.config));
    await appendAudit(trx, deps, context, { action: 'totp.confirm_failed', subject, outcome: 'failure', details: { failures: outcome.failures } });
    if (outcome.locked) await appendAudit(trx, deps, context, { action: 'totp.confirm_locked', subject, outcome: 'failure', details: { until: outcome.blockedUntil?.toISOString() } });
    return outcome.locked;
  });
  if (locked) deps.metrics.recordLock('account');
}

export const wrongSetupCode = () => new WartaError(400, 'invalid_code', 'that code is not right; check the time on your phone and enter the current code');

/**
 * Confirms the signed-in user's pending set-up with a code from their app.
 * Wrong codes are counted per user (`totp:user:<id>`), like sign-in failures.
 */
export async function confirmTotpSetup(deps: TotpDeps, context: AuditContext, user: { id: string }, code: string): Promise<TotpCredential> {
  const owner = { userId: user.id };
  const key = `totp:user:${user.id}`;
  await assertNotThrottled(deps.db, deps.clock, key);
  const setup = await findTotpSetup(deps.db, deps.clock, owner);
  const step = matchSetupCode(deps, setup, owner, code);
  if (step === null) {
    await recordSetupCodeFailure(deps, context, key, `user:${user.id}`);
    throw wrongSetupCode();
  }
  return deps.db.transaction().execute(async (trx) => {
    const { credential, replaced } = await activateTotpSetup(trx, deps, setup, owner, user.id, step);
    await appendAudit(trx, deps, context, { action: replaced ? 'totp.replaced' : 'totp.enrolled', subject: `user:${user.id}`, details: { credential_id: credential.id, algorithm: credential.algorithm, digits: credential.digits, period: credential.period } });
    return credential;
  });
}

export async function findTotpCredential(db: Db, userId: string): Promise<TotpCredential | undefined> {
  return db.selectFrom('totp_credentials').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** The time step `code` matches for the credential, or null (malformed codes included: callers answer both alike). */
export function matchCredentialCode(deps: Pick<TotpDeps, 'box' | 'clock' | 'config'>, credential: TotpCredential, code: string): number | null {
  const secret = deps.box.open(credential.secret_enc, credentialContext(credential.id));
  try {
    return findMatchingTimeStep({ secret, code, settings: settingsOf(credential), now: deps.clock.now(), window: deps.config.totp.window });
  } catch (error) {
    if (error instanceof WartaError && error.code === 'invalid_code_format') return null;
    throw error;
  }
}

/**
 * Marks `step` used, atomically: it succeeds only when the step is later than
 * every step accepted before, so a code works once and an older code never
 * does, however many requests race (the row lock serialises them).
 */
export async function consumeTimeStep(trx: Transaction<Database>, clock: Clock, credentialId: string, step: number): Promise<boolean> {
  return (await timeStepConsumption(trx, { credentialId, step, now: clock.now() }).executeTakeFirst()) !== undefined;
}

export interface TimeStepUse {
  credentialId: string;
  step: number;
  now: Date;
}

/** consumeTimeStep's statement, not yet run: the gate of a sign-in made in one statement (sessions/sign-in.ts). */
export function timeStepConsumption(db: Kysely<Database>, use: TimeStepUse) {
  return db
    .updateTable('totp_credentials')
    .set({ last_used_step: use.step, last_used_at: use.now })
    .where('id', '=', use.credentialId)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', use.step)]))
    .returning('id');
}

export async function removeTotp(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { session: Session; confirmLastMethod: boolean }): Promise<{ remaining: number }> {
  return removeFactorAfterStrongProof(deps, context, { ...input, factor: 'totp' }, async (trx, userId) => {
    const removed = await trx.deleteFrom('totp_credentials').where('user_id', '=', userId).returning('id').executeTakeFirst();
    if (!removed) throw new WartaError(404, 'totp_not_enrolled', 'there is no authenticator app to remove');
    await trx.deleteFrom('totp_setups').where('user_id', '=', userId).execute();
    return { credential_id: removed.id };
  });
}
