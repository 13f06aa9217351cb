import { sql } from 'kysely';
import type { AuditContext } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { RecoveryCase, User } from '../db/schema.js';
import { conflict, notFound, WartaError } from '../errors.js';
import { parsedValue } from '../parsed.js';
import type { Deps } from '../deps.js';
import { assertOfficerCooledDown } from '../authority/officer-cooldown.js';
import { auditingRefusal, recordCaseChange } from './cases.js';
import type { OpenCaseInput } from './input.js';
import { findPersonForOfficer } from './people.js';
import { checkDesk, recoveryPolicyOf } from './policy.js';
import { holdsAuthority } from './co-approve.js';

const userNotFound = () => notFound('user_not_found', 'no such person in your organisation');

/**
 * Officer A records the in-person identity check and opens a case. The
 * person must be in A's own organisation and must not be A. The partial unique
 * index (one open case per person) guards against two officers opening at once.
 */
export async function openRecoveryCase(deps: Deps, context: AuditContext, officer: User, input: OpenCaseInput): Promise<RecoveryCase> {
  const { userId } = input;
  return auditingRefusal(deps, context, { action: 'open', subject: userId ? `user:${userId}` : `user:${officer.id}` }, async () => {
    const { identity, reason } = parsedValue(input.identity);
    if (!userId) throw userNotFound();
    const user = await findPersonForOfficer(deps.db, officer, userId);
    if (!user) throw userNotFound();
    if (user.id === officer.id) throw new WartaError(403, 'recovery_self_case', 'nobody opens or approves a recovery case about themselves; ask another officer');
    if (user.status !== 'active') throw new WartaError(409, 'account_disabled', 'this account is disabled; an administrator must enable it before it can be recovered');
    const policy = await recoveryPolicyOf(deps.db, officer.organisation_id);
    const desk = checkDesk(policy, parsedValue(input.desk));
    await assertOfficerCooledDown(deps, officer.id);
    const requiresAdmin = await holdsAuthority(deps.db, user.id);

    return deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const opened = await trx
        .insertInto('recovery_cases')
        .values({
          id: newId(),
          organisation_id: officer.organisation_id,
          user_id: user.id,
          status: 'pending',
          reason,
          document_type: identity.documentType,
          document_last4: identity.documentLast4,
          identity_note: identity.note,
          opened_by: officer.id,
          opened_desk: desk,
          opened_at: now,
          expires_at: addSeconds(now, policy.caseTtlSeconds),
          approved_by: null,
          approved_desk: null,
          approved_at: null,
          code_hash: null,
          code_expires_at: null,
          code_max_attempts: null,
          redeemed_at: null,
          grant_hash: null,
          grant_expires_at: null,
          closed_at: null,
          closed_by: null,
          closed_desk: null,
          close_reason: null,
          requires_admin: requiresAdmin,
        })
        // A literal predicate: PostgreSQL matches it against the partial index's own.
        .onConflict((oc) => oc.column('user_id').where(sql<boolean>`status in ('pending', 'approved', 'redeemed', 'disputed')`).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!opened) throw conflict('recovery_case_open', 'this person already has an open recovery case; review or close it first');
      await recordCaseChange(trx, deps, context, opened, {
        action: 'recovery.opened',
        event: 'recovery_opened',
        details: { desk, document_type: opened.document_type, document_last4: opened.document_last4, reason: opened.reason, expires_at: opened.expires_at.toISOString(), requires_admin: opened.requires_admin },
      });
      return opened;
    });
  });
}
