/**
 * What clients require of an organisation's people to sign in at all
 * (`required_groups`, `required_attributes`; src/oidc/checks/requirements.ts).
 * The clients that count are those that sign the organisation's people in
 * (src/oidc/checks/organisation.ts acceptsUserOf): its own, the operator's (any
 * organisation's people sign in to them), and another organisation's that lets
 * other organisations sign in. Whoever sets such a group or value decides who
 * reaches that service, so it is sensitive whatever its flag says.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

export interface RequirementsInForce {
  /** Required group paths, lower-case (paths match case-insensitively). */
  groupPaths: ReadonlySet<string>;
  attributeNames: ReadonlySet<string>;
}

export async function requirementsInForce(db: Kysely<Database>, organisationId: string): Promise<RequirementsInForce> {
  const rows = await db
    .selectFrom('oauth_clients')
    .select(['required_groups', 'required_attributes'])
    .where((eb) => eb.or([eb('organisation_id', '=', organisationId), eb('organisation_id', 'is', null), eb('cross_organisation_sign_in', '=', true)]))
    .where(sql<boolean>`(jsonb_array_length(required_groups) > 0 or required_attributes <> '{}'::jsonb)`)
    .execute();
  return {
    groupPaths: new Set(rows.flatMap((row) => row.required_groups.map((path) => path.toLowerCase()))),
    attributeNames: new Set(rows.flatMap((row) => Object.keys(row.required_attributes))),
  };
}
