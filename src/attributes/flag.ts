/** Flagging an attribute sensitive, and clearing the flag: who may do which at once is in src/authority/sensitive-flag.ts. */
import type { Transaction } from 'kysely';
import type { AuditContext } from '../audit/audit.js';
import type { Approval, AwaitingApproval } from '../authority/change-requests.js';
import type { PeopleActor } from '../authority/people.js';
import { auditSensitiveFlag, changeSensitiveFlag } from '../authority/sensitive-flag.js';
import type { Database } from '../db/schema.js';
import { type AttributeDefinitionView, type AttributeDeps, definitionView, findAttributeDefinition } from './service.js';

export async function setAttributeSensitive(
  deps: AttributeDeps,
  context: AuditContext,
  input: { actor: PeopleActor; organisationId: string; name: string; sensitive: boolean; reason?: string | null },
): Promise<AttributeDefinitionView | AwaitingApproval> {
  const definition = await findAttributeDefinition(deps.db, input.organisationId, input.name);
  if (definition.sensitive === input.sensitive) return definitionView(definition);
  return changeSensitiveFlag(deps, context, {
    ...input,
    act: 'attribute.unflag_sensitive',
    clearingRequest: { kind: 'attribute.unflag', definitionId: definition.id, subject: `org:${input.organisationId}`, details: { name: definition.name } },
    apply: (trx) => applyAttributeFlag(trx, deps, context, { organisationId: input.organisationId, definitionId: definition.id, sensitive: input.sensitive }),
  });
}

/** Sets the definition's flag, with its audit entry; `approval` when a second admin approved clearing it. */
export async function applyAttributeFlag(
  trx: Transaction<Database>,
  deps: AttributeDeps,
  context: AuditContext,
  input: { organisationId: string; definitionId: string; sensitive: boolean; approval?: Approval },
): Promise<AttributeDefinitionView> {
  const updated = await trx.updateTable('attribute_definitions').set({ sensitive: input.sensitive }).where('id', '=', input.definitionId).where('organisation_id', '=', input.organisationId).where('sensitive', '<>', input.sensitive).returningAll().executeTakeFirst();
  if (updated) await auditSensitiveFlag(trx, deps, context, { kind: 'attribute', sensitive: input.sensitive, subject: `org:${input.organisationId}`, details: { name: updated.name }, approval: input.approval });
  return definitionView(updated ?? (await trx.selectFrom('attribute_definitions').selectAll().where('id', '=', input.definitionId).executeTakeFirstOrThrow()));
}
