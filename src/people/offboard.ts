/**
 * Offboarding a person who left: everything a disable does, and every way they
 * had to sign in is removed (passkeys revoked, password and TOTP deleted), their
 * unredeemed invitations are revoked and their open recovery cases cancelled.
 * The user row stays, status `offboarded`: the audit trail keeps its subject,
 * and the username (their e-mail or employee id) is never given to anyone else,
 * so an invitation under it is refused (`user_exists`).
 */
import { sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { OPEN_RECOVERY_STATUSES } from '../db/schema.js';
import { conflict, invalidRequest } from '../errors.js';
import { revokeOldCredentials } from '../recovery/revoke.js';
import { actorName, assertNotLastAdmin, lockTarget } from '../authority/people.js';
import { type DisabledPerson, type PeopleDeps, type PersonAct, personAct, takeAccessAway } from './disable.js';

export interface OffboardedPerson extends DisabledPerson {
  passkeys: number;
  totp: number;
  password: number;
  invitations: number;
  recovery_cases: number;
}

export function offboardPerson(deps: PeopleDeps, context: AuditContext, input: PersonAct & { confirm: unknown }): Promise<OffboardedPerson> {
  return personAct(deps, context, 'person.offboarded', input, async (trx, reason) => {
    if (input.confirm !== true) throw invalidRequest('offboarding removes every credential for good: send confirm: true');
    const target = await lockTarget(trx, input.actor, input.personId);
    if (target.person.status === 'offboarded') throw conflict('person_offboarded', 'this person is already offboarded');
    await assertNotLastAdmin(trx, target);
    const ended = await takeAccessAway(trx, deps, input.actor, target, 'offboarded', reason);
    const credentials = await revokeOldCredentials(trx, deps.clock, target.person.id, {});
    const now = deps.clock.now();
    const { person } = target;
    const invitations = await trx
      .updateTable('invitations')
      .set({ revoked_at: now })
      .where('organisation_id', '=', person.organisation_id)
      .where('redeemed_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('user_id', '=', person.id), eb(sql`lower(email)`, '=', person.username.toLowerCase()), eb('employee_id', '=', person.username), ...(person.email ? [eb(sql`lower(email)`, '=', person.email.toLowerCase())] : []), ...(person.employee_id ? [eb('employee_id', '=', person.employee_id)] : [])]))
      .executeTakeFirst();
    const cases = await trx
      .updateTable('recovery_cases')
      .set({ status: 'cancelled', closed_at: now, closed_by: input.actor.kind === 'admin' ? input.actor.userId : null, close_reason: 'offboarded' })
      .where('user_id', '=', person.id)
      .where('status', 'in', OPEN_RECOVERY_STATUSES)
      .executeTakeFirst();
    const result = { ...ended, ...credentials, invitations: Number(invitations.numUpdatedRows), recovery_cases: Number(cases.numUpdatedRows) };
    await appendAudit(trx, deps, context, {
      action: 'person.offboarded',
      subject: `user:${person.id}`,
      details: { organisation_id: person.organisation_id, username: person.username, roles: target.roles, reason, by: actorName(input.actor), ...result },
    });
    return { id: person.id, username: person.username, status: 'offboarded' as const, reason, ...result };
  });
}
