/**
 * Ending every session and grant of an organisation at once (a breach at one
 * tenant): each browser session of its users, each OIDC grant (so every refresh
 * token, and every access token at introspection and userinfo), offline ones
 * included. Clients signed in through those sessions are queued back-channel
 * logouts, and each user who lost something gets `sessions_revoked` (RISC), as a
 * recovery or an admin's "sign out everywhere" would. One transaction, one audit
 * entry with the counts, and a fixed number of statements however large the
 * organisation: no round trip per user or per row.
 */
import { sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { newId } from '../crypto/random.js';
import { isUuid } from '../db/uuid.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { raiseSecurityEventForUsers } from '../events/raise.js';
import { incidentReason } from './reason.js';

const REVOKED_REASON = 'organisation_sessions_ended';

export interface EndedOrganisationSessions {
  organisation_id: string;
  organisation: string;
  sessions: number;
  grants: number;
  users: number;
  backchannel_logouts: number;
  security_events: number;
  sets_queued: number;
}

export async function endOrganisationSessions(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, input: { organisationId: string; reason: unknown }): Promise<EndedOrganisationSessions> {
  const reason = incidentReason(input.reason);
  if (!isUuid(input.organisationId)) throw notFound('organisation_not_found', 'no such organisation');
  return deps.db.transaction().execute(async (trx) => {
    const organisation = await trx.selectFrom('organisations').select(['id', 'name']).where('id', '=', input.organisationId).executeTakeFirst();
    if (!organisation) throw notFound('organisation_not_found', 'no such organisation');
    const now = deps.clock.now();
    const members = sql`(select id from users where organisation_id = ${organisation.id})`;

    // Before the sessions end, for the join needs them live: what endOldSessions queues per user, for all at once.
    const backchannel = await sql`
      insert into backchannel_logouts (id, client_id, user_id, session_id, created_at, next_attempt_at, attempts)
      select gen_random_uuid(), live.client_id, live.user_id, live.session_id, ${now}, ${now}, 0
      from (select distinct g.client_id, s.user_id, s.id as session_id
            from sessions s
            join oauth_grants g on g.session_id = s.id
            join oauth_clients c on c.client_id = g.client_id
            where s.user_id in ${members} and s.revoked_at is null and s.expires_at > ${now} and c.backchannel_logout_uri is not null) live`.execute(trx);
    const { rows } = await sql<{ user_id: string; sessions: number; grants: number }>`
      with ended_sessions as (
        update sessions set revoked_at = ${now}, revoked_reason = ${REVOKED_REASON}
        where user_id in ${members} and revoked_at is null and expires_at > ${now}
        returning user_id),
      ended_grants as (
        update oauth_grants set revoked_at = ${now}, revoked_reason = ${REVOKED_REASON}
        where user_id in ${members} and revoked_at is null and expires_at > ${now}
        returning user_id)
      select user_id, sum(s)::int as sessions, sum(g)::int as grants from (
        select user_id, 1 as s, 0 as g from ended_sessions
        union all select user_id, 0, 1 from ended_grants) ended
      group by user_id`.execute(trx);

    const raised = await raiseSecurityEventForUsers(trx, deps.clock, {
      type: 'sessions_revoked',
      organisationId: organisation.id,
      userIds: rows.map((row) => row.user_id),
      details: {},
      initiatingEntity: 'admin',
      txn: newId(),
    });
    const result: EndedOrganisationSessions = {
      organisation_id: organisation.id,
      organisation: organisation.name,
      sessions: rows.reduce((n, row) => n + row.sessions, 0),
      grants: rows.reduce((n, row) => n + row.grants, 0),
      users: rows.length,
      backchannel_logouts: Number(backchannel.numAffectedRows ?? 0),
      security_events: raised.events,
      sets_queued: raised.sets,
    };
    const { organisation_id: _id, organisation: name, ...counts } = result;
    await appendAudit(trx, deps, context, { action: 'organisation.sessions_ended', subject: `org:${organisation.id}`, details: { name, reason, ...counts } });
    return result;
  });
}
