/**
 * Client settings only the instance operator chooses (issue 11, "clients are
 * instance-wide"). Each reaches past the organisation that owns the client:
 *
 * - `first_party`: users are signed in without a consent page;
 * - `first_party_native`: the app signs users in without a browser (src/first-party/);
 * - `access_token_audience` other than the client's own id: its access tokens are
 *   accepted by another service (possibly another organisation's);
 * - `cross_organisation_sign_in`: users of other organisations sign in to it;
 * - `organisation_id`: which organisation owns it;
 * - `introspection_audiences`: it may introspect access tokens made for these
 *   audiences, which may be another organisation's clients' tokens;
 * - `sector_identifier` other than the host of its redirect URIs: a pairwise client
 *   naming another service's sector would see that service's `sub` for every person;
 * - `required_groups` / `required_attributes` once a client has any: an admin may
 *   put requirements on a client that has none (it lets fewer people in), but
 *   changing or lifting them would let one admin open a service to a group they
 *   fill alone (a group nobody requires is not sensitive), around the second admin
 *   that sensitive groups and attributes need (src/authority/requirements-in-force.ts).
 *
 * An organisation admin who asks for any of them (at registration or update) is
 * refused: nothing is written and the attempt is audited.
 */
import type { OAuthClient } from '../db/schema.js';
import type { ClientMetadata } from './metadata.js';
import { redirectUrisHost } from './sector.js';

export type OperatorSetting = 'first_party' | 'first_party_native' | 'access_token_audience' | 'cross_organisation_sign_in' | 'organisation_id' | 'introspection_audiences' | 'sector_identifier' | 'required_groups' | 'required_attributes';

/** The audience a client's tokens carry, with "its own id" and "unset" as one value. */
export const effectiveAudience = (audience: string | null, clientId: string | undefined): string | null => (audience === null || audience === clientId ? null : audience);

/**
 * The operator-only settings `requested` would change on `current` (undefined at
 * registration, where every setting starts at its default and the client is the admin's organisation's).
 */
export function operatorSettingsChanged(
  requested: Pick<ClientMetadata, 'first_party' | 'first_party_native' | 'access_token_audience' | 'cross_organisation_sign_in' | 'introspection_audiences' | 'sector_identifier' | 'redirect_uris' | 'required_groups' | 'required_attributes'> & { organisation_id: string | null },
  current: Pick<OAuthClient, 'first_party' | 'first_party_native' | 'access_token_audience' | 'cross_organisation_sign_in' | 'organisation_id' | 'introspection_audiences' | 'sector_identifier' | 'required_groups' | 'required_attributes'> & { client_id?: string },
): OperatorSetting[] {
  const changed: OperatorSetting[] = [];
  if (requested.first_party !== current.first_party) changed.push('first_party');
  if (requested.first_party_native !== current.first_party_native) changed.push('first_party_native');
  if (effectiveAudience(requested.access_token_audience, current.client_id) !== effectiveAudience(current.access_token_audience, current.client_id)) changed.push('access_token_audience');
  if (requested.cross_organisation_sign_in !== current.cross_organisation_sign_in) changed.push('cross_organisation_sign_in');
  if (requested.organisation_id !== current.organisation_id) changed.push('organisation_id');
  if ([...requested.introspection_audiences].sort().join(' ') !== [...current.introspection_audiences].sort().join(' ')) changed.push('introspection_audiences');
  const ownSector = (sector: string | null) => (sector === null || sector === redirectUrisHost(requested.redirect_uris) ? null : sector);
  if (ownSector(requested.sector_identifier) !== null && requested.sector_identifier !== current.sector_identifier) changed.push('sector_identifier');
  if (current.required_groups.length > 0 || Object.keys(current.required_attributes).length > 0) {
    if ([...requested.required_groups].sort().join('\n') !== [...current.required_groups].sort().join('\n')) changed.push('required_groups');
    const attributes = (required: Record<string, unknown>) => JSON.stringify(Object.entries(required).sort(([a], [b]) => a.localeCompare(b)));
    if (attributes(requested.required_attributes) !== attributes(current.required_attributes)) changed.push('required_attributes');
  }
  return changed;
}
