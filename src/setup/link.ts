import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import { hashToken, newToken } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { alreadySetUp, firstOrganisationName, holdFirstOrganisationLock, tryFirstOrganisationLock } from './first-organisation.js';

/** A setup link is good for this long: long enough to open it after start-up, short enough that one found in a scroll-back later is dead. */
export const SETUP_LINK_TTL_SECONDS = 3600;

/** The token travels in the fragment, so it never reaches a server or proxy log, nor a Referer header. */
export const setupLink = (issuer: string, token: string) => `${issuer}/setup#token=${token}`;

export type SetupLinkOutcome = { issued: true; link: string; expiresAt: Date } | { issued: false; reason: 'already_set_up' | 'another_instance' };

interface SetupLinkDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  config: Pick<Config, 'issuer'>;
}

/**
 * Makes a new single-use setup link while Warta has no organisation, storing only
 * its hash in the one row (so the previous link stops working), audited in the
 * same transaction. Under the first-organisation lock: of instances starting
 * together on one database only the one that gets it makes a link (`wait:
 * false`, start-up); the others make none, so nobody is handed a link another
 * instance has already voided. The CLI waits for the lock instead.
 */
export async function issueSetupLink(deps: SetupLinkDeps, context: AuditContext, options: { wait: boolean }): Promise<SetupLinkOutcome> {
  return deps.db.transaction().execute(async (trx): Promise<SetupLinkOutcome> => {
    if (options.wait) await holdFirstOrganisationLock(trx);
    else if (!(await tryFirstOrganisationLock(trx))) return { issued: false, reason: 'another_instance' };
    if ((await firstOrganisationName(trx)) !== undefined) return { issued: false, reason: 'already_set_up' };
    const token = newToken();
    const now = deps.clock.now();
    const expiresAt = addSeconds(now, SETUP_LINK_TTL_SECONDS);
    const row = { token_hash: hashToken(token), created_at: now, expires_at: expiresAt, used_at: null };
    await trx
      .insertInto('setup_token')
      .values({ id: 1, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
    await appendAudit(trx, deps, context, { action: 'setup.link_issued', subject: 'setup', details: { expires_at: expiresAt.toISOString() } });
    return { issued: true, link: setupLink(deps.config.issuer, token), expiresAt };
  });
}

/** `warta setup-link`: a fresh link, or `already_set_up` once an organisation exists. */
export async function issueSetupLinkOrRefuse(deps: SetupLinkDeps, context: AuditContext): Promise<{ link: string; expiresAt: Date }> {
  const outcome = await issueSetupLink(deps, context, { wait: true });
  if (outcome.issued) return outcome;
  throw alreadySetUp((await firstOrganisationName(deps.db)) ?? '');
}
