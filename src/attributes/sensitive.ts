/**
 * Which attributes need a second admin to set (principle 8): one flagged
 * `sensitive`, or one a client that signs in the organisation's people requires
 * (src/authority/requirements-in-force.ts), whatever its flag says: its value
 * decides who reaches that service.
 */
import type { Kysely } from 'kysely';
import { requirementsInForce } from '../authority/requirements-in-force.js';
import type { AttributeDefinition, Database } from '../db/schema.js';

export async function isSensitiveAttribute(db: Kysely<Database>, definition: Pick<AttributeDefinition, 'organisation_id' | 'name' | 'sensitive'>): Promise<boolean> {
  return definition.sensitive || (await requirementsInForce(db, definition.organisation_id)).attributeNames.has(definition.name);
}
