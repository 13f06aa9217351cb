import type { Config } from '../config.js';
import { type Kysely, sql } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newId, newToken } from '../crypto/random.js';
import { withDates } from '../db/json-row.js';
import { revokeLiveRows } from '../db/revoke.js';
import { type Database, json, type Role, type Session, type Db, type User } from '../db/schema.js';


export interface SessionDeps {
  db: Kysely<Database>;
  clock: Clock;
  config: Pick<Config, 'sessions'>;
}

/** `acr` values Warta defines (published in the OIDC discovery document). */
export const ACR_HARDWARE = 'urn:warta:acr:hardware';
export const ACR_PHISHING_RESISTANT = 'urn:warta:acr:phishing-resistant';
export const ACR_MFA = 'urn:warta:acr:mfa';
export const ACR_SINGLE_FACTOR = 'urn:warta:acr:single-factor';

/** Weakest first: a request for one level is met by it and by every level after it. */
export const ACR_ORDER: readonly string[] = [ACR_SINGLE_FACTOR, ACR_MFA, ACR_PHISHING_RESISTANT, ACR_HARDWARE];

/** The position of an acr in ACR_ORDER; -1 for a value Warta does not define (meets nothing). */
export const acrRank = (acr: string): number => ACR_ORDER.indexOf(acr);

/** Whether `acr` meets `floor` (an unknown acr meets nothing: fail closed). */
export const acrReaches = (acr: string, floor: string): boolean => acrRank(acr) >= 0 && acrRank(acr) >= acrRank(floor);

/** The weaker of two acr values (an unknown one counts as single-factor). */
export function weakerAcr(a: string, b: string): string {
  return ACR_ORDER[Math.min(Math.max(acrRank(a), 0), Math.max(acrRank(b), 0))]!;
}

/**
 * The assurance a set of RFC 8176 methods gives. A passkey with user
 * verification (`hwk`/`swk` plus `user`/`pin`/`fpt`) is phishing-resistant
 * because the credential is bound to Warta's origin, and `hardware` when it is
 * device-bound (`hwk`: backup eligibility off, the key cannot be synced away);
 * `pwd`+`otp` is two factors but phishable.
 *
 * `ceiling` is the most the credential used may prove: a passkey is only as
 * trustworthy as the session that bound it (webauthn/binding.ts), so a passkey
 * added from a password+TOTP session signs in at `mfa` whatever its flags say.
 */
export function acrFor(amr: readonly string[], ceiling?: string): string {
  const earned = earnedAcr(amr);
  return ceiling === undefined ? earned : weakerAcr(earned, ceiling);
}

function earnedAcr(amr: readonly string[]): string {
  const passkey = amr.includes('hwk') || amr.includes('swk');
  const verified = amr.includes('user') || amr.includes('pin') || amr.includes('fpt');
  if (passkey && verified) return amr.includes('hwk') ? ACR_HARDWARE : ACR_PHISHING_RESISTANT;
  if (amr.includes('mfa') || (passkey && amr.includes('pwd')) || (amr.includes('pwd') && amr.includes('otp'))) return ACR_MFA;
  return ACR_SINGLE_FACTOR;
}

export interface StartSessionInput {
  userId: string;
  amr: string[];
  /** The most the credential used may prove (acrFor); omitted when the methods alone decide. */
  acrCeiling?: string | undefined;
  ip: string | null;
  userAgent: string | null;
  /** The user's organisation's policy when the caller has already read it (saves reading it again). */
  organisationPolicy?: SessionLifetimePolicy | undefined;
}

/** The part of an organisation's policy that shortens sessions (orgs/policy.ts validated it). */
export interface SessionLifetimePolicy {
  sessionIdleMinutes?: number | null;
  sessionMaxHours?: number | null;
}

/** A new session; only the hash of the returned token is stored. */
export async function startSession(db: Db, deps: Omit<SessionDeps, 'db'>, input: StartSessionInput): Promise<{ token: string; session: Session }> {
  const policy = input.organisationPolicy ?? (await organisationPolicyOf(db, input.userId));
  const { token, session } = newSession(deps, { ...input, organisationPolicy: policy });
  await db
    .insertInto('sessions')
    .values({ ...session, amr: json(session.amr) })
    .execute();
  return { token, session };
}

/** The row startSession inserts and the token for its cookie, for a caller that inserts it within a larger statement. */
export function newSession(deps: Omit<SessionDeps, 'db'>, input: StartSessionInput & { organisationPolicy: SessionLifetimePolicy }): { token: string; session: Session } {
  const token = newToken();
  const now = deps.clock.now();
  const lifetime = shortenedLifetime(deps.config.sessions, input.organisationPolicy);
  const session: Session = {
      id: newId(),
      token_hash: hashToken(token),
      user_id: input.userId,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: addSeconds(now, lifetime.idleSeconds),
      expires_at: addSeconds(now, lifetime.absoluteSeconds),
      auth_time: now,
      amr: [...new Set(input.amr)],
      acr: acrFor(input.amr, input.acrCeiling),
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 512) ?? null,
      revoked_at: null,
      revoked_reason: null,
  };
  return { token, session };
}

/** The user's organisation's policy, read as stored (orgs/policy-check.ts validated it): the policy's module sits above sessions, which may not import it. */
async function organisationPolicyOf(db: Db, userId: string): Promise<SessionLifetimePolicy> {
  const row = await db.selectFrom('users').innerJoin('organisations', 'organisations.id', 'users.organisation_id').select('organisations.policy').where('users.id', '=', userId).executeTakeFirst();
  return (row?.policy ?? {}) as SessionLifetimePolicy;
}

/** The server's session lifetimes, shortened by the organisation's policy where it asks for less. */
function shortenedLifetime(server: { idleSeconds: number; absoluteSeconds: number }, policy: SessionLifetimePolicy): { idleSeconds: number; absoluteSeconds: number } {
  return {
    idleSeconds: Math.min(server.idleSeconds, typeof policy.sessionIdleMinutes === 'number' ? policy.sessionIdleMinutes * 60 : Infinity),
    absoluteSeconds: Math.min(server.absoluteSeconds, typeof policy.sessionMaxHours === 'number' ? policy.sessionMaxHours * 3600 : Infinity),
  };
}

// Sliding the idle expiry costs a write; do it at most once a minute per session.
const TOUCH_INTERVAL_SECONDS = 60;

/**
 * The live session for a cookie value, with its user, when active, and the user's
 * roles, in one read: what every request carrying a session cookie needs. Slides the
 * idle timeout. Undefined when the session is absent, expired or revoked, or its user
 * not active (then the idle timeout does not slide either).
 */
export async function resumeSignedIn(deps: SessionDeps, token: string): Promise<{ session: Session; user: User; roles: Role[] } | undefined> {
  if (!token || token.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const now = deps.clock.now();
  const row = await deps.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .selectAll('s')
    .select([sql<Record<string, unknown>>`to_jsonb(u)`.as('session_user'), sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('session_user_roles')])
    .where('s.token_hash', '=', hashToken(token))
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('s.idle_expires_at', '>', now)
    .where('u.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return undefined;
  const { session_user, session_user_roles, ...session } = row;
  return { session: await slideIdleExpiry(deps, session, now), user: withDates(session_user) as unknown as User, roles: session_user_roles };
}


async function slideIdleExpiry(deps: SessionDeps, session: Session, now: Date): Promise<Session> {
  if (now.getTime() - session.last_seen_at.getTime() < TOUCH_INTERVAL_SECONDS * 1000) return session;
  // Each slide keeps the idle time the session started with (its organisation's, when shorter than the server's).
  const idle = new Date(now.getTime() + (session.idle_expires_at.getTime() - session.last_seen_at.getTime()));
  await deps.db.updateTable('sessions').set({ last_seen_at: now, idle_expires_at: idle }).where('id', '=', session.id).execute();
  return { ...session, last_seen_at: now, idle_expires_at: idle };
}

/** Records a fresh proof of presence (re-authentication or step-up) on an existing session. */
export async function reauthenticateSession(db: Db, clock: Clock, session: Session, amr: string[], acrCeiling?: string): Promise<Session> {
  const merged = [...new Set([...session.amr, ...amr])];
  // The acr reflects what was just proven, not the union: a later password step must not inherit a passkey's assurance.
  return db
    .updateTable('sessions')
    .set({ auth_time: clock.now(), amr: json(merged), acr: acrFor(amr, acrCeiling) })
    .where('id', '=', session.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function revokeSession(db: Db, clock: Clock, sessionId: string, reason: string): Promise<boolean> {
  return (await revokeLiveRows(db, clock, 'sessions', { id: sessionId }, reason)) > 0;
}

/** True when the user proved presence within `maxAgeSeconds` (re-authentication gate for sensitive changes). */
export const authenticatedWithin = (session: Pick<Session, 'auth_time'>, clock: Clock, maxAgeSeconds: number): boolean =>
  clock.now().getTime() - session.auth_time.getTime() <= maxAgeSeconds * 1000;
