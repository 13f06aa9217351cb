/**
 * Typed attributes an organisation keeps about its people (clearance_level,
 * employee_id, position …): the organisation's admins define each (name, type
 * string|integer|boolean|enum, and an enum's allowed values) and set values per
 * person; every value is checked against its definition, so a relying service can
 * trust a clearance_level to be one of the values the organisation defined.
 * Every change is audited in its transaction.
 *
 * Setting a value takes effect at once, unless the attribute is sensitive
 * (sensitive.ts: flagged, or required by a client): then one admin's ask opens a
 * change request that a second admin approves (src/change-requests/).
 */
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../authority/change-requests.js';
import { newId } from '../crypto/random.js';
import { ATTRIBUTE_TYPES, type AttributeDefinition, type AttributeType, type AttributeValue, type Database, json } from '../db/schema.js';
import { conflict, invalidRequest, notFound, WartaError } from '../errors.js';
import type { PeopleActor } from '../authority/people.js';
import { isSensitiveAttribute } from './sensitive.js';

export type AttributeDeps = { db: Kysely<Database> } & AuditWriter;

/** Lower-case, so it reads the same as a claim member and in `required_attributes`. */
export const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** The scope that releases one attribute to a client: `attr:<name>` (src/oidc/claims.ts). */
export const ATTRIBUTE_SCOPE_PREFIX = 'attr:';
const MAX_STRING = 500;
const MAX_ENUM_VALUES = 50;

export interface AttributeDefinitionView {
  name: string;
  type: AttributeType;
  allowed_values?: string[];
  /** Flagged sensitive; one a client requires is sensitive too (sensitive.ts). */
  sensitive: boolean;
}

export const definitionView = (d: AttributeDefinition): AttributeDefinitionView => ({ name: d.name, type: d.type, ...(d.allowed_values ? { allowed_values: d.allowed_values } : {}), sensitive: d.sensitive });

const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

export async function listAttributeDefinitions(db: Kysely<Database>, organisationId: string): Promise<AttributeDefinitionView[]> {
  return (await db.selectFrom('attribute_definitions').selectAll().where('organisation_id', '=', organisationId).orderBy('name').execute()).map(definitionView);
}

export async function defineAttribute(deps: AttributeDeps, context: AuditContext, input: { organisationId: string; name: string; type: string; allowedValues?: readonly string[] | undefined; sensitive?: boolean }): Promise<AttributeDefinitionView> {
  if (!ATTRIBUTE_NAME.test(input.name)) throw invalidRequest('an attribute name is lower-case letters, digits and _, starting with a letter, at most 64 characters');
  if (!(ATTRIBUTE_TYPES as readonly string[]).includes(input.type)) throw invalidRequest(`type must be one of ${ATTRIBUTE_TYPES.join(', ')}`);
  const type = input.type as AttributeType;
  let allowed: string[] | null = null;
  if (type === 'enum') {
    allowed = [...new Set((input.allowedValues ?? []).map((v) => v.trim()))];
    if (allowed.length === 0 || allowed.length > MAX_ENUM_VALUES || allowed.some((v) => v.length === 0 || v.length > 100))
      throw invalidRequest(`an enum attribute needs 1 to ${MAX_ENUM_VALUES} allowed values of 1 to 100 characters`);
  } else if (input.allowedValues !== undefined && input.allowedValues.length > 0) {
    throw invalidRequest('allowed values are only for enum attributes');
  }
  return deps.db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto('attribute_definitions')
      .values({ id: newId(), organisation_id: input.organisationId, name: input.name, type, allowed_values: allowed === null ? null : json(allowed), sensitive: input.sensitive === true, created_at: deps.clock.now() })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!created) throw conflict('attribute_exists', `the organisation already defines ${input.name}`);
    await appendAudit(trx, deps, context, { action: 'attribute.defined', subject: `org:${input.organisationId}`, details: { name: created.name, type, ...(allowed ? { allowed_values: allowed } : {}), ...(created.sensitive ? { sensitive: true } : {}) } });
    return definitionView(created);
  });
}

/** `value` as `definition` allows it; a 400 naming what is wrong otherwise. */
export function checkAttributeValue(definition: Pick<AttributeDefinition, 'name' | 'type' | 'allowed_values'>, value: unknown): AttributeValue {
  const refuse = (expected: string) => new WartaError(400, 'invalid_attribute_value', `${definition.name} must be ${expected}`);
  switch (definition.type) {
    case 'string':
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING) throw refuse(`a string of 1 to ${MAX_STRING} characters`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw refuse('an integer');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw refuse('true or false');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !(definition.allowed_values ?? []).includes(value)) throw refuse(`one of ${(definition.allowed_values ?? []).join(', ')}`);
      return value;
  }
}

/** A value typed on a command line, read as `definition`'s type ("42" for an integer, "true" for a boolean). */
export function parseAttributeText(definition: Pick<AttributeDefinition, 'type'>, text: string): unknown {
  if (definition.type === 'integer') return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
  if (definition.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

export async function findAttributeDefinition(db: Kysely<Database>, organisationId: string, name: string): Promise<AttributeDefinition> {
  const definition = ATTRIBUTE_NAME.test(name) ? await db.selectFrom('attribute_definitions').selectAll().where('organisation_id', '=', organisationId).where('name', '=', name).executeTakeFirst() : undefined;
  if (!definition) throw notFound('attribute_not_found', `the organisation defines no attribute ${name}`);
  return definition;
}

export type AttributeSet = { user_id: string; name: string; value: AttributeValue | null };

/**
 * Sets (or, with null, clears) one person's value of an attribute, checked against
 * its definition. A sensitive attribute's new value waits for a second admin; one
 * the person already holds changes nothing and asks no one.
 */
export async function setAttribute(
  deps: AttributeDeps,
  context: AuditContext,
  input: { actor: PeopleActor; organisationId: string; userId: string; name: string; value: unknown; reason?: string | null },
): Promise<AttributeSet | AwaitingApproval> {
  const definition = await findAttributeDefinition(deps.db, input.organisationId, input.name);
  const value = input.value === null ? null : checkAttributeValue(definition, input.value);
  const user = isUuid(input.userId) ? await deps.db.selectFrom('users').select('id').where('id', '=', input.userId).where('organisation_id', '=', input.organisationId).executeTakeFirst() : undefined;
  if (!user) throw notFound('person_not_found', 'no such person in your organisation');
  return auditingPersonRequired(deps, context, input.actor, 'attribute.set', () =>
    deps.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('user_attributes').select('value').where('user_id', '=', user.id).where('definition_id', '=', definition.id).executeTakeFirst();
      if ((before?.value ?? null) === value) return { user_id: user.id, name: definition.name, value };
      // The flag as it is now, in this transaction: flagging takes effect at once.
      const current = await trx.selectFrom('attribute_definitions').selectAll().where('id', '=', definition.id).executeTakeFirstOrThrow();
      if (await isSensitiveAttribute(trx, current)) {
        const requestedBy = askerOf(input.actor);
        if (requestedBy !== null)
          return openChangeRequest(trx, deps, context, {
            organisationId: input.organisationId,
            requestedBy,
            kind: 'attribute.set',
            userId: user.id,
            definitionId: definition.id,
            change: { value },
            reason: input.reason ?? null,
            subject: `user:${user.id}`,
            details: { name: definition.name, before: before?.value ?? null, after: value },
          });
      }
      return applyAttributeValue(trx, deps, context, { organisationId: input.organisationId, userId: user.id, definition: current, value });
    }),
  );
}

/** Writes the value (checked again against the definition), with its audit entry; `approval` when a second admin approved it. */
export async function applyAttributeValue(
  trx: Transaction<Database>,
  deps: AttributeDeps,
  context: AuditContext,
  input: { organisationId: string; userId: string; definition: AttributeDefinition; value: unknown; approval?: Approval },
): Promise<AttributeSet> {
  const { definition, userId } = input;
  const value = input.value === null ? null : checkAttributeValue(definition, input.value);
  const before = await trx.selectFrom('user_attributes').select('value').where('user_id', '=', userId).where('definition_id', '=', definition.id).forUpdate().executeTakeFirst();
  if (value === null) await trx.deleteFrom('user_attributes').where('user_id', '=', userId).where('definition_id', '=', definition.id).execute();
  else
    await trx
      .insertInto('user_attributes')
      .values({ user_id: userId, definition_id: definition.id, value: json(value), updated_at: deps.clock.now() })
      .onConflict((oc) => oc.columns(['user_id', 'definition_id']).doUpdateSet({ value: json(value), updated_at: deps.clock.now() }))
      .execute();
  await appendAudit(trx, deps, context, {
    action: 'attribute.set',
    subject: `user:${userId}`,
    details: { organisation_id: input.organisationId, name: definition.name, before: before?.value ?? null, after: value, ...approvalDetails(input.approval) },
  });
  return { user_id: userId, name: definition.name, value };
}

/** A person's attribute values by name. */
export async function attributesOf(db: Kysely<Database>, userId: string): Promise<Record<string, AttributeValue>> {
  const rows = await db
    .selectFrom('user_attributes as v')
    .innerJoin('attribute_definitions as d', 'd.id', 'v.definition_id')
    .innerJoin('users as u', (join) => join.onRef('u.id', '=', 'v.user_id').onRef('u.organisation_id', '=', 'd.organisation_id'))
    .select(['d.name', 'v.value'])
    .where('v.user_id', '=', userId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}
