/**
 * One person as an admin sees them: their account, how they sign in, where they
 * are signed in, and what happened to them lately. Looking is itself audited
 * (`person.viewed`): who looked at whom is on record.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { isUuid } from '../db/uuid.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { actorName, type PeopleActor } from '../authority/people.js';
import type { PeopleDeps } from './disable.js';

const RECENT = 20;
const SIGN_IN_ACTIONS = ['signin.succeeded', 'signin.failed', 'signin.account_locked', 'signin.locked'];

const iso = (at: Date | null) => (at ? at.toISOString() : null);

/** The person's page; `organisationId` null for the operator. */
export async function showPerson(deps: Pick<Deps, 'db' | 'clock'>, organisationId: string | null, personId: string) {
  const { db } = deps;
  const person = isUuid(personId) ? await db.selectFrom('users').selectAll().where('id', '=', personId).executeTakeFirst() : undefined;
  if (!person || (organisationId !== null && person.organisation_id !== organisationId)) throw notFound('person_not_found', 'no such person in your organisation');
  const [roles, passkeys, password, totp, devices, sessions, signIns, events, cases] = await Promise.all([
    db.selectFrom('user_roles').select(['role', 'granted_at']).where('user_id', '=', person.id).orderBy('role').execute(),
    db.selectFrom('webauthn_credentials').select(['id', 'name', 'authenticator_name', 'backup_eligible', 'bound_acr', 'bound_via', 'confirmed_at', 'created_at', 'last_used_at', 'revoked_at', 'blocked_at']).where('user_id', '=', person.id).orderBy('created_at').execute(),
    db.selectFrom('password_credentials').select(['created_at', 'updated_at']).where('user_id', '=', person.id).executeTakeFirst(),
    db.selectFrom('totp_credentials').select(['created_at', 'last_used_at']).where('user_id', '=', person.id).executeTakeFirst(),
    db
      .selectFrom('devices as d')
      .innerJoin('oauth_grants as g', 'g.id', 'd.grant_id')
      .select(['d.grant_id', 'd.name', 'd.platform', 'd.last_ip', 'd.created_at', 'd.last_used_at', 'g.client_id', 'g.revoked_at'])
      .where('d.user_id', '=', person.id)
      .orderBy('d.last_used_at', 'desc')
      .limit(RECENT)
      .execute(),
    db.selectFrom('sessions').select(['id', 'created_at', 'last_seen_at', 'expires_at', 'acr', 'amr', 'ip', 'user_agent']).where('user_id', '=', person.id).where('revoked_at', 'is', null).where('expires_at', '>', deps.clock.now()).orderBy('created_at', 'desc').execute(),
    db.selectFrom('audit_log').select(['at', 'action', 'outcome', 'ip']).where('subject', '=', `user:${person.id}`).where('action', 'in', SIGN_IN_ACTIONS).orderBy('id', 'desc').limit(RECENT).execute(),
    db.selectFrom('security_events').select(['type', 'occurred_at', 'initiating_entity']).where('user_id', '=', person.id).orderBy('occurred_at', 'desc').limit(RECENT).execute(),
    db.selectFrom('recovery_cases').select(['id', 'status', 'opened_at', 'closed_at', 'close_reason']).where('user_id', '=', person.id).orderBy('opened_at', 'desc').limit(RECENT).execute(),
  ]);
  return {
    id: person.id,
    display_name: person.display_name,
    username: person.username,
    email: person.email,
    employee_id: person.employee_id,
    status: person.status,
    roles: roles.map((r) => r.role),
    created_at: person.created_at.toISOString(),
    disabled: person.disabled_at ? { at: person.disabled_at.toISOString(), by: person.disabled_by, reason: person.disabled_reason } : null,
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, authenticator: p.authenticator_name, synced: p.backup_eligible, bound_acr: p.bound_acr, bound_via: p.bound_via, confirmed_at: iso(p.confirmed_at), created_at: p.created_at.toISOString(), last_used_at: iso(p.last_used_at), revoked_at: iso(p.revoked_at), blocked_at: iso(p.blocked_at) })),
    password: password ? { created_at: password.created_at.toISOString(), updated_at: password.updated_at.toISOString() } : null,
    totp: totp ? { created_at: totp.created_at.toISOString(), last_used_at: iso(totp.last_used_at) } : null,
    devices: devices.map((d) => ({ id: d.grant_id, name: d.name, platform: d.platform, client_id: d.client_id, last_ip: d.last_ip, created_at: d.created_at.toISOString(), last_used_at: d.last_used_at.toISOString(), revoked: d.revoked_at !== null })),
    sessions: sessions.map((s) => ({ id: s.id, created_at: s.created_at.toISOString(), last_seen_at: s.last_seen_at.toISOString(), expires_at: s.expires_at.toISOString(), acr: s.acr, amr: s.amr, ip: s.ip, user_agent: s.user_agent })),
    recent_sign_ins: signIns.map((a) => ({ at: a.at.toISOString(), action: a.action, outcome: a.outcome, ip: a.ip })),
    recent_security_events: events.map((e) => ({ type: e.type, at: e.occurred_at.toISOString(), initiating_entity: e.initiating_entity })),
    recovery_cases: cases.map((c) => ({ id: c.id, status: c.status, opened_at: c.opened_at.toISOString(), closed_at: iso(c.closed_at), close_reason: c.close_reason })),
  };
}

export type PersonView = Awaited<ReturnType<typeof showPerson>>;

/** showPerson for an actor, with the `person.viewed` audit entry. */
export async function viewPerson(deps: PeopleDeps, context: AuditContext, input: { actor: PeopleActor; personId: string }): Promise<PersonView> {
  const organisationId = input.actor.kind === 'cli' ? null : input.actor.kind === 'client' ? input.actor.organisationId : (await deps.db.selectFrom('users').select('organisation_id').where('id', '=', input.actor.userId).executeTakeFirstOrThrow()).organisation_id;
  const view = await showPerson(deps, organisationId, input.personId);
  await appendAudit(deps.db, deps, context, { action: 'person.viewed', subject: `user:${view.id}`, details: { organisation_id: organisationId ?? undefined, by: actorName(input.actor) } });
  return view;
}
