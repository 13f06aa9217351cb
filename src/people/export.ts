/**
 * A subject-access export: everything Warta holds about one person, as one JSON
 * document. Nothing secret and no hash of one: no password hash, TOTP secret,
 * session or invitation token hash, recovery code or grant hash, audit MAC or
 * chain hash. Passkeys are listed without their credential id and public key:
 * neither is secret, but they are authenticator internals the person cannot
 * read, and the credential id would let the file be matched against other
 * relying parties' records. Groups are listed with their paths, each `direct` (the
 * person was put in it) or `inherited` (they are in a group under it), as claims
 * and sign-in requirements count them. Exporting is audited (`person.exported`).
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Db } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { notFound } from '../errors.js';
import { groupMembershipsOf } from '../groups/service.js';
import { actorName, type PeopleActor } from '../authority/people.js';
import type { PeopleDeps } from './disable.js';

export const PERSON_EXPORT_FORMAT = 'warta.person-export.v1';

const iso = (at: Date | null) => (at ? at.toISOString() : null);

/** The person's data; `organisationId` null for the operator, else another organisation's person is 404. */
export async function exportPersonData(db: Db, organisationId: string | null, personId: string) {
  const person = isUuid(personId) ? await db.selectFrom('users').selectAll().where('id', '=', personId).executeTakeFirst() : undefined;
  if (!person || (organisationId !== null && person.organisation_id !== organisationId)) throw notFound('person_not_found', 'no such person in your organisation');
  const id = person.id;
  const [organisation, roles, groups, attributes, passkeys, password, totp, sessions, devices, consents, events, cases, invitations, audit] = await Promise.all([
    db.selectFrom('organisations').select(['id', 'name']).where('id', '=', person.organisation_id).executeTakeFirstOrThrow(),
    db.selectFrom('user_roles').select(['role', 'granted_at', 'acts_from']).where('user_id', '=', id).orderBy('role').execute(),
    groupMembershipsOf(db, id),
    db
      .selectFrom('user_attributes as v')
      .innerJoin('attribute_definitions as d', 'd.id', 'v.definition_id')
      .select(['d.name', 'd.type', 'v.value', 'v.updated_at'])
      .where('v.user_id', '=', id)
      .where('d.organisation_id', '=', person.organisation_id)
      .orderBy('d.name')
      .execute(),
    db
      .selectFrom('webauthn_credentials')
      .select(['id', 'name', 'authenticator_name', 'aaguid', 'attestation_fmt', 'transports', 'backup_eligible', 'backed_up', 'bound_acr', 'bound_via', 'confirmed_at', 'confirmed_by', 'created_at', 'last_used_at', 'revoked_at', 'blocked_at', 'blocked_reason'])
      .where('user_id', '=', id)
      .orderBy('created_at')
      .execute(),
    db.selectFrom('password_credentials').select(['created_at', 'updated_at']).where('user_id', '=', id).executeTakeFirst(),
    db.selectFrom('totp_credentials').select(['created_at', 'last_used_at', 'algorithm', 'digits', 'period']).where('user_id', '=', id).executeTakeFirst(),
    db.selectFrom('sessions').select(['id', 'created_at', 'last_seen_at', 'expires_at', 'auth_time', 'acr', 'amr', 'ip', 'user_agent', 'revoked_at', 'revoked_reason']).where('user_id', '=', id).orderBy('created_at').execute(),
    db
      .selectFrom('devices as d')
      .innerJoin('oauth_grants as g', 'g.id', 'd.grant_id')
      .select(['d.grant_id', 'd.name', 'd.platform', 'd.user_agent', 'd.first_ip', 'd.last_ip', 'd.created_at', 'd.last_used_at', 'g.client_id', 'g.scope', 'g.revoked_at'])
      .where('d.user_id', '=', id)
      .orderBy('d.created_at')
      .execute(),
    db.selectFrom('oauth_consents').select(['client_id', 'scope', 'granted_at']).where('user_id', '=', id).orderBy('granted_at').execute(),
    db.selectFrom('security_events').select(['id', 'type', 'occurred_at', 'initiating_entity', 'ip', 'details']).where('user_id', '=', id).orderBy('seq').execute(),
    db
      .selectFrom('recovery_cases')
      .select(['id', 'status', 'reason', 'document_type', 'document_last4', 'identity_note', 'opened_by', 'opened_desk', 'opened_at', 'approved_by', 'approved_at', 'admin_approved_by', 'redeemed_at', 'closed_at', 'closed_by', 'close_reason'])
      .where('user_id', '=', id)
      .orderBy('opened_at')
      .execute(),
    db.selectFrom('invitations').select(['id', 'display_name', 'email', 'employee_id', 'role', 'created_by', 'approved_by', 'created_at', 'expires_at', 'redeemed_at', 'revoked_at']).where((eb) => eb.or([eb('redeemed_by', '=', id), eb('user_id', '=', id)])).orderBy('created_at').execute(),
    db.selectFrom('audit_log').select(['at', 'actor', 'action', 'outcome', 'ip', 'user_agent', 'details']).where('subject', '=', `user:${id}`).orderBy('id').execute(),
  ]);
  return {
    format: PERSON_EXPORT_FORMAT,
    organisation,
    profile: {
      id,
      display_name: person.display_name,
      username: person.username,
      email: person.email,
      employee_id: person.employee_id,
      given_name: person.given_name,
      family_name: person.family_name,
      external_id: person.external_id,
      status: person.status,
      roles: roles.map((r) => ({ role: r.role, granted_at: r.granted_at.toISOString(), acts_from: iso(r.acts_from) })),
      created_at: person.created_at.toISOString(),
      updated_at: person.updated_at.toISOString(),
      disabled: person.disabled_at ? { at: person.disabled_at.toISOString(), by: person.disabled_by, reason: person.disabled_reason } : null,
      recovered_at: iso(person.recovered_at),
    },
    groups: groups.map((g) => ({ id: g.id, path: g.path, membership: g.membership, added_at: iso(g.added_at) })),
    attributes: attributes.map((a) => ({ name: a.name, type: a.type, value: a.value, updated_at: a.updated_at.toISOString() })),
    passkeys: passkeys.map((p) => ({
      id: p.id,
      name: p.name,
      authenticator: p.authenticator_name,
      aaguid: p.aaguid,
      attestation: p.attestation_fmt,
      transports: p.transports,
      synced: p.backup_eligible,
      backed_up: p.backed_up,
      bound_acr: p.bound_acr,
      bound_via: p.bound_via,
      confirmed: p.confirmed_at ? { at: p.confirmed_at.toISOString(), by: p.confirmed_by } : null,
      created_at: p.created_at.toISOString(),
      last_used_at: iso(p.last_used_at),
      revoked_at: iso(p.revoked_at),
      blocked: p.blocked_at ? { at: p.blocked_at.toISOString(), reason: p.blocked_reason } : null,
    })),
    password: password ? { set_at: password.created_at.toISOString(), changed_at: password.updated_at.toISOString() } : null,
    totp: totp ? { enrolled_at: totp.created_at.toISOString(), last_used_at: iso(totp.last_used_at), algorithm: totp.algorithm, digits: totp.digits, period: totp.period } : null,
    sessions: sessions.map((s) => ({
      id: s.id,
      created_at: s.created_at.toISOString(),
      last_seen_at: s.last_seen_at.toISOString(),
      expires_at: s.expires_at.toISOString(),
      auth_time: s.auth_time.toISOString(),
      acr: s.acr,
      amr: s.amr,
      ip: s.ip,
      user_agent: s.user_agent,
      ended: s.revoked_at ? { at: s.revoked_at.toISOString(), reason: s.revoked_reason } : null,
    })),
    devices: devices.map((d) => ({
      id: d.grant_id,
      name: d.name,
      platform: d.platform,
      client_id: d.client_id,
      scope: d.scope,
      user_agent: d.user_agent,
      first_ip: d.first_ip,
      last_ip: d.last_ip,
      created_at: d.created_at.toISOString(),
      last_used_at: d.last_used_at.toISOString(),
      revoked_at: iso(d.revoked_at),
    })),
    consents: consents.map((c) => ({ client_id: c.client_id, scope: c.scope, granted_at: c.granted_at.toISOString() })),
    security_events: events.map((e) => ({ id: e.id, type: e.type, at: e.occurred_at.toISOString(), initiating_entity: e.initiating_entity, ip: e.ip, details: e.details })),
    recovery_cases: cases.map((c) => ({
      id: c.id,
      status: c.status,
      reason: c.reason,
      identity_check: { document_type: c.document_type, document_last4: c.document_last4, note: c.identity_note },
      opened: { at: c.opened_at.toISOString(), by: c.opened_by, desk: c.opened_desk },
      approved: c.approved_at ? { at: c.approved_at.toISOString(), by: c.approved_by, admin: c.admin_approved_by } : null,
      redeemed_at: iso(c.redeemed_at),
      closed: c.closed_at ? { at: c.closed_at.toISOString(), by: c.closed_by, reason: c.close_reason } : null,
    })),
    invitations: invitations.map((i) => ({
      id: i.id,
      display_name: i.display_name,
      email: i.email,
      employee_id: i.employee_id,
      role: i.role,
      created_by: i.created_by,
      approved_by: i.approved_by,
      created_at: i.created_at.toISOString(),
      expires_at: i.expires_at.toISOString(),
      redeemed_at: iso(i.redeemed_at),
      revoked_at: iso(i.revoked_at),
    })),
    audit: audit.map((a) => ({ at: a.at.toISOString(), actor: a.actor, action: a.action, outcome: a.outcome, ip: a.ip, user_agent: a.user_agent, details: a.details })),
  };
}

export type PersonExport = Awaited<ReturnType<typeof exportPersonData>> & { exported_at: string; exported_by: string };

/** exportPersonData for an actor, with the `person.exported` audit entry: the export exists only once it is on record. */
export async function exportPerson(deps: PeopleDeps, context: AuditContext, input: { actor: PeopleActor; personId: string }): Promise<PersonExport> {
  const organisationId = input.actor.kind === 'cli' ? null : input.actor.kind === 'client' ? input.actor.organisationId : (await deps.db.selectFrom('users').select('organisation_id').where('id', '=', input.actor.userId).executeTakeFirstOrThrow()).organisation_id;
  const data = await exportPersonData(deps.db, organisationId, input.personId);
  const by = actorName(input.actor);
  await appendAudit(deps.db, deps, context, { action: 'person.exported', subject: `user:${data.profile.id}`, details: { organisation_id: data.organisation.id, by, audit_entries: data.audit.length } });
  return { ...data, exported_at: deps.clock.now().toISOString(), exported_by: by };
}
