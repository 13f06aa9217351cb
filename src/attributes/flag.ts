/**
 * Flagging an attribute sensitive, and clearing the flag. Flagging raises
 * protection, so one admin does it at once; clearing lowers it, so it is a
 * two-admin change (src/change-requests/). The operator's CLI does either at once.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../authority/change-requests.js';
import type { Database } from '../db/schema.js';
import type { PeopleActor } from '../authority/people.js';
import { type AttributeDefinitionView, type AttributeDeps, definitionView, findAttributeDefinition } from './service.js';

export async function setAttributeSensitive(
  deps: AttributeDeps,
  context: AuditContext,
  input: { actor: PeopleActor; organisationId: string; name: string; sensitive: boolean; reason?: string | null },
): Promise<AttributeDefinitionView | AwaitingApproval> {
  const definition = await findAttributeDefinition(deps.db, input.organisationId, input.name);
  if (definition.sensitive === input.sensitive) return definitionView(definition);
  return auditingPersonRequired(deps, context, input.actor, 'attribute.unflag_sensitive', () =>
    deps.db.transaction().execute(async (trx) => {
      if (!input.sensitive) {
        const requestedBy = askerOf(input.actor);
        if (requestedBy !== null)
          return openChangeRequest(trx, deps, context, {
            organisationId: input.organisationId,
            requestedBy,
            kind: 'attribute.unflag',
            definitionId: definition.id,
            change: {},
            reason: input.reason ?? null,
            subject: `org:${input.organisationId}`,
            details: { name: definition.name },
          });
      }
      return applyAttributeFlag(trx, deps, context, { organisationId: input.organisationId, definitionId: definition.id, sensitive: input.sensitive });
    }),
  );
}

/** Sets the definition's flag, with its audit entry; `approval` when a second admin approved clearing it. */
export async function applyAttributeFlag(
  trx: Transaction<Database>,
  deps: AttributeDeps,
  context: AuditContext,
  input: { organisationId: string; definitionId: string; sensitive: boolean; approval?: Approval },
): Promise<AttributeDefinitionView> {
  const updated = await trx.updateTable('attribute_definitions').set({ sensitive: input.sensitive }).where('id', '=', input.definitionId).where('organisation_id', '=', input.organisationId).where('sensitive', '<>', input.sensitive).returningAll().executeTakeFirst();
  if (updated)
    await appendAudit(trx, deps, context, {
      action: input.sensitive ? 'attribute.flagged_sensitive' : 'attribute.unflagged_sensitive',
      subject: `org:${input.organisationId}`,
      details: { name: updated.name, ...approvalDetails(input.approval) },
    });
  return definitionView(updated ?? (await trx.selectFrom('attribute_definitions').selectAll().where('id', '=', input.definitionId).executeTakeFirstOrThrow()));
}
