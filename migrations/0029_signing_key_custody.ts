import { type Kysely, sql } from 'kysely';

/**
 * Where each signing key's private half is kept. `envelope`: in the row,
 * sealed under the master key (every key before this migration). `pkcs11`: in
 * an HSM token, never in the database; the row names the token object by its
 * CKA_ID. The check keeps a row from claiming one custody and holding the other's data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('signing_keys').addColumn('provider', 'text', (c) => c.notNull().defaultTo('envelope')).execute();
  await db.schema.alterTable('signing_keys').addColumn('key_reference', 'text').execute();
  await db.schema.alterTable('signing_keys').alterColumn('private_jwk_enc', (c) => c.dropNotNull()).execute();
  await sql`alter table signing_keys add constraint signing_keys_custody check (
    (provider = 'envelope' and private_jwk_enc is not null and key_reference is null)
    or (provider = 'pkcs11' and private_jwk_enc is null and key_reference is not null))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from signing_keys where provider <> 'envelope'`.execute(db);
  await sql`alter table signing_keys drop constraint signing_keys_custody`.execute(db);
  await db.schema.alterTable('signing_keys').alterColumn('private_jwk_enc', (c) => c.setNotNull()).execute();
  await db.schema.alterTable('signing_keys').dropColumn('key_reference').execute();
  await db.schema.alterTable('signing_keys').dropColumn('provider').execute();
}
