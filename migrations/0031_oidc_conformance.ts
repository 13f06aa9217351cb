import type { Kysely } from 'kysely';

/**
 * Two client settings of the OpenID conformance work (issue 16):
 *
 * - oauth_clients.require_dpop_nonce: DPoP proofs of this client must carry a
 *   server-provided nonce (RFC 9449 §8, §9), at the token endpoint and at
 *   protected resources.
 * - oauth_clients.introspection_audiences: the access-token audiences whose tokens
 *   this client (a resource server) may introspect besides its own; set by the
 *   operator alone, as the tokens may be another organisation's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('require_dpop_nonce', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('introspection_audiences', 'jsonb', (c) => c.notNull().defaultTo('[]'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('introspection_audiences').dropColumn('require_dpop_nonce').execute();
}
