import { type Kysely, sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import type { Clock } from '../clock.js';
import { type Database, type Db, json, type Role, type UserStatus } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { announceToAdmins } from '../events/announce.js';
import { fapi2Nonconformities } from '../clients/security-profile.js';
import { methodRefusal } from './method-policy.js';
import { checkPolicy, defaultedMembers, policyDifferences, policyVersion } from './policy-check.js';
import { type OrganisationPolicy, resolvePolicy } from './policy.js';
import { getOrganisation } from './service.js';

/** How many names a preview lists per group; the count is always complete. */
export const PREVIEW_NAMES = 20;

export interface OrganisationView {
  id: string;
  name: string;
  /** Pass back as `expectedVersion` when changing the policy. */
  version: string;
  policy: OrganisationPolicy;
  /** Members not set for this organisation, so they follow Warta's defaults. */
  defaulted: (keyof OrganisationPolicy)[];
  email_domains: string[];
  people: { total: number; by_status: Record<UserStatus, number>; by_role: Record<Role, Record<UserStatus, number>> };
}

export async function showOrganisation(db: Db, organisationId: string): Promise<OrganisationView> {
  const organisation = await getOrganisation(db as Kysely<Database>, organisationId);
  const statuses = await db.selectFrom('users').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('organisation_id', '=', organisationId).groupBy('status').execute();
  const roles = await db
    .selectFrom('users as u')
    .innerJoin('user_roles as r', 'r.user_id', 'u.id')
    .select(['r.role', 'u.status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('u.organisation_id', '=', organisationId)
    .groupBy(['r.role', 'u.status'])
    .execute();
  const none = (): Record<UserStatus, number> => ({ active: 0, disabled: 0, offboarded: 0 });
  const by_status = none();
  for (const row of statuses) by_status[row.status] = Number(row.n);
  const by_role = { member: none(), recovery_officer: none(), admin: none(), operator: none() } as Record<Role, Record<UserStatus, number>>;
  for (const row of roles) by_role[row.role][row.status] = Number(row.n);
  return {
    id: organisation.id,
    name: organisation.name,
    version: policyVersion(organisation.policy),
    policy: resolvePolicy(organisation.policy),
    defaulted: defaultedMembers(organisation.policy),
    email_domains: organisation.email_domains,
    people: { total: Object.values(by_status).reduce((a, b) => a + b, 0), by_status, by_role },
  };
}

interface PersonMethods {
  id: string;
  display_name: string;
  username: string;
  roles: Role[];
  passkeys: number;
  password_and_totp: boolean;
}

/** Each active person of the organisation with the sign-in credentials they hold (passkeys usable, password with TOTP). */
async function activePeopleMethods(db: Db, organisationId: string): Promise<PersonMethods[]> {
  const rows = await db
    .selectFrom('users as u')
    .select([
      'u.id',
      'u.display_name',
      'u.username',
      sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('roles'),
      sql<number>`(select count(*) from webauthn_credentials w where w.user_id = u.id and w.revoked_at is null and w.blocked_at is null)`.as('passkeys'),
      sql<boolean>`(exists (select 1 from password_credentials p where p.user_id = u.id) and exists (select 1 from totp_credentials t where t.user_id = u.id))`.as('password_and_totp'),
    ])
    .where('u.organisation_id', '=', organisationId)
    .where('u.status', '=', 'active')
    .orderBy('u.display_name')
    .orderBy('u.id')
    .execute();
  return rows.map((row) => ({ ...row, passkeys: Number(row.passkeys) }));
}

const passwordWorks = (person: PersonMethods, policy: OrganisationPolicy) => person.password_and_totp && !methodRefusal('password', policy, person.roles);
const canSignIn = (person: PersonMethods, policy: OrganisationPolicy) => person.passkeys > 0 || passwordWorks(person, policy);

type PersonRef = { id: string; display_name: string; username: string; roles: Role[] };
type Group = { count: number; people: PersonRef[] };
const group = (people: PersonMethods[]): Group => ({ count: people.length, people: people.slice(0, PREVIEW_NAMES).map(({ id, display_name, username, roles }) => ({ id, display_name, username, roles })) });

export interface PolicyPreview {
  /** The version the preview was made against: pass it back to set the policy. */
  version: string;
  /** The proposed policy as it would be stored (members left out follow the defaults). */
  proposed: Partial<OrganisationPolicy>;
  policy: OrganisationPolicy;
  changes: ReturnType<typeof policyDifferences>;
  /** Active people who could sign in and could not after the change: only the recovery desk lets them back in. */
  lose_every_sign_in: Group;
  /** Active people whose password with TOTP stops working, but who keep a passkey. */
  lose_password_sign_in: Group;
  /** Active admins among lose_every_sign_in: a change with any is refused. */
  admins_locked_out: Group;
  /** The organisation's clients that could not work under fapi2 when the change raises clientSecurityProfile to it: a change with any is refused. */
  clients_not_fapi2: ClientGroup;
}

type ClientGroup = { count: number; clients: { client_id: string; client_name: string; problems: string[] }[] };

/**
 * The organisation's clients that would stop working if its clients were all held to
 * fapi2 (a client secret, a public client, an RS256 key). Raising the default is refused
 * while there are any: the admin changes or replaces them first, knowingly, rather than
 * finding the organisation's applications broken after a policy save.
 */
async function clientsNotFapi2(db: Db, organisationId: string): Promise<ClientGroup> {
  const clients = await db.selectFrom('oauth_clients').select(['client_id', 'client_name', 'token_endpoint_auth_method', 'application_type', 'jwks']).where('organisation_id', '=', organisationId).orderBy('client_name').orderBy('client_id').execute();
  const failing = clients.map((client) => ({ client_id: client.client_id, client_name: client.client_name, problems: fapi2Nonconformities(client) })).filter((client) => client.problems.length > 0);
  return { count: failing.length, clients: failing.slice(0, PREVIEW_NAMES) };
}

async function preview(db: Db, organisationId: string, storedPolicy: Record<string, unknown>, proposedPolicy: unknown): Promise<PolicyPreview> {
  const proposed = checkPolicy(proposedPolicy);
  const before = resolvePolicy(storedPolicy);
  const after = resolvePolicy(proposed);
  const people = await activePeopleMethods(db, organisationId);
  const losing = people.filter((person) => canSignIn(person, before) && !canSignIn(person, after));
  const raisesClientsToFapi2 = before.clientSecurityProfile !== 'fapi2' && after.clientSecurityProfile === 'fapi2';
  return {
    version: policyVersion(storedPolicy),
    proposed,
    policy: after,
    changes: policyDifferences(before, after),
    lose_every_sign_in: group(losing),
    lose_password_sign_in: group(people.filter((person) => passwordWorks(person, before) && !passwordWorks(person, after) && canSignIn(person, after))),
    admins_locked_out: group(losing.filter((person) => person.roles.includes('admin'))),
    clients_not_fapi2: raisesClientsToFapi2 ? await clientsNotFapi2(db, organisationId) : { count: 0, clients: [] },
  };
}

/** What the proposed policy would change and for whom; refuses an invalid policy with `400 invalid_policy`. Changes nothing. */
export async function previewPolicyChange(db: Db, organisationId: string, proposedPolicy: unknown): Promise<PolicyPreview> {
  const organisation = await getOrganisation(db as Kysely<Database>, organisationId);
  return preview(db, organisationId, organisation.policy, proposedPolicy);
}

/**
 * Replaces the organisation's policy (by one of its admins or the operator).
 * The organisation row is locked first, so the version check, the lock-out
 * check and the write see the same policy and people; the change is audited
 * with before and after and announced to the organisation's admins in that
 * transaction. A change that would leave an active admin with no way to sign
 * in is refused: nobody could then undo it but the operator. So is raising the
 * clients' security profile to fapi2 while some client could not work under it. A refused change
 * (invalid, stale, locking admins out) is audited as a failure with the reason
 * after its transaction rolled back: someone probing the policy is on record.
 */
export async function setPolicy(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array },
  context: AuditContext,
  input: { organisationId: string; policy: unknown; expectedVersion?: string; changedBy?: string },
): Promise<PolicyPreview & { version: string }> {
  const attempt = { action: 'organisation.policy_set', subject: `org:${input.organisationId}`, details: { expected_version: input.expectedVersion ?? null } };
  return auditingAuthorityRefusal(deps, context, attempt, () =>
    deps.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('organisations').select('policy').where('id', '=', input.organisationId).forUpdate().executeTakeFirst();
      if (!row) throw new WartaError(404, 'organisation_not_found', 'no such organisation');
      const result = await preview(trx, input.organisationId, row.policy, input.policy);
      if (input.expectedVersion !== undefined && input.expectedVersion !== result.version)
        throw new WartaError(409, 'policy_modified', 'the policy was changed since you read it; read it again and re-apply your change');
      if (result.admins_locked_out.count)
        throw new WartaError(409, 'policy_locks_out_admins', `the change would leave ${result.admins_locked_out.count} active admin(s) with no way to sign in (${result.admins_locked_out.people.map((p) => p.display_name || p.username).join(', ')}); they need a passkey first`);
      if (result.clients_not_fapi2.count)
        throw new WartaError(409, 'policy_breaks_clients', `${result.clients_not_fapi2.count} of the organisation's clients could not work under fapi2 (${result.clients_not_fapi2.clients.map((client) => `${client.client_name}: ${client.problems.join('; ')}`).join(' | ')}); change them to private_key_jwt (PS256, ES256 or EdDSA keys) or mutual TLS first`.slice(0, 1000));
      await trx.updateTable('organisations').set({ policy: json(result.proposed) }).where('id', '=', input.organisationId).execute();
      const members = result.changes.map((change) => change.member);
      await announceToAdmins(trx, deps.clock, input.organisationId, { type: 'organisation_changed', details: { change: 'policy_set', changedBy: input.changedBy ?? null, members } });
      await appendAudit(trx, deps, context, {
        action: 'organisation.policy_set',
        subject: `org:${input.organisationId}`,
        details: { before: row.policy, after: result.proposed, changed: members, lose_every_sign_in: result.lose_every_sign_in.count, lose_password_sign_in: result.lose_password_sign_in.count },
      });
      return { ...result, version: policyVersion(result.proposed) };
    }),
  );
}
