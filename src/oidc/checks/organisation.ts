/**
 * Whose users may sign in to a client. The operator's clients (no owning
 * organisation) are the instance's shared services: any organisation's users.
 * An organisation's client serves its own users, and others' only when the
 * operator allowed cross-organisation sign-in: otherwise one organisation's admin
 * could register a client that signs in another organisation's users and
 * collects their identities.
 */
import type { OAuthClient, User } from '../../db/schema.js';

export function acceptsUserOf(client: Pick<OAuthClient, 'organisation_id' | 'cross_organisation_sign_in'>, user: Pick<User, 'organisation_id'>): boolean {
  return client.organisation_id === null || client.cross_organisation_sign_in || client.organisation_id === user.organisation_id;
}
