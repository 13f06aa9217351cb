import type { Kysely } from 'kysely';
import { recordAnonymousFailure } from '../audit/anonymous-failures.js';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { emailDomainOf, parseEmailDomains, setEmailDomains } from '../authority/email-domains.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { hashToken } from '../crypto/random.js';
import type { Database, Invitation, Organisation, SetupTokenTable } from '../db/schema.js';
import { invalidRequest, WartaError } from '../errors.js';
import { checkInvitationValues, createInvitation } from '../invitations/service.js';
import { createOrganisation } from '../orgs/service.js';
import { alreadySetUp, firstOrganisationName, holdFirstOrganisationLock } from './first-organisation.js';

export interface SetupInput {
  /** From the setup link's fragment. */
  token: string;
  organisationName: string;
  /** Undefined: the admin's own e-mail domain (none for an admin named by employee id). */
  emailDomains?: readonly string[] | undefined;
  displayName: string;
  email?: string | null | undefined;
  employeeId?: string | null | undefined;
}

export interface CompletedSetup {
  organisation: Organisation;
  invitation: Invitation;
  /** The first admin's enrollment link: the page goes there at once to create the passkey. */
  link: string;
}

interface SetupDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  config: Pick<Config, 'issuer' | 'invitations' | 'audit'>;
}

const SETUP_LINK_REFUSALS = ['setup_link_invalid', 'setup_link_used', 'setup_link_expired'];

/**
 * First-run setup from the setup link: the first organisation, its e-mail
 * domains and its first admin's invitation (admin and operator, as `warta
 * bootstrap` makes them), in one transaction with the token's consumption.
 * The conditional UPDATE makes the link single-use under concurrency; the
 * first-organisation lock keeps a second setup (or a bootstrap) from also
 * finding no organisation. Any refusal rolls everything back.
 */
export async function completeSetup(deps: SetupDeps, context: AuditContext, input: SetupInput): Promise<CompletedSetup> {
  const organisationName = input.organisationName.trim();
  if (organisationName.length < 2 || organisationName.length > 200) throw invalidRequest('organisation name must be 2 to 200 characters');
  const admin = checkInvitationValues(deps, { organisationId: '', displayName: input.displayName, email: input.email ?? null, employeeId: input.employeeId ?? null, role: 'admin' });
  const domains = parseEmailDomains(input.emailDomains ?? (admin.email ? [emailDomainOf(admin.email)] : []));
  try {
    return await deps.db.transaction().execute(async (trx) => {
      await holdFirstOrganisationLock(trx);
      const now = deps.clock.now();
      const tokenHash = hashToken(input.token);
      const claimed = await trx
        .updateTable('setup_token')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('id')
        .executeTakeFirst();
      if (!claimed) throw setupLinkRefusal(await trx.selectFrom('setup_token').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(), now);
      const existing = await firstOrganisationName(trx);
      if (existing !== undefined) throw alreadySetUp(existing);
      const within = { ...deps, db: trx };
      const created = await createOrganisation(within, context, { name: organisationName });
      const organisation = domains.length ? await setEmailDomains(within, context, { organisationId: created.id, domains }) : created;
      const issued = await createInvitation(within, context, {
        organisationId: organisation.id,
        displayName: admin.displayName,
        email: admin.email,
        employeeId: admin.employeeId,
        role: 'admin',
        // The first admin is also the first operator, as with `warta bootstrap`: later operators need two operators or the CLI.
        grantsOperator: true,
      });
      await appendAudit(trx, deps, context, { action: 'setup.completed', subject: `org:${organisation.id}`, details: { invitation_id: issued.invitation.id, username: admin.username } });
      return { organisation, invitation: issued.invitation, link: issued.link };
    });
  } catch (error) {
    // Counted, not audited one by one: whoever sends made-up tokens names nothing that exists.
    if (error instanceof WartaError && SETUP_LINK_REFUSALS.includes(error.code)) await recordAnonymousFailure(deps.db, deps, { action: 'setup.refused', key: error.code, ip: context.ip });
    throw error;
  }
}

function setupLinkRefusal(row: SetupTokenTable | undefined, now: Date): WartaError {
  if (!row) return new WartaError(404, 'setup_link_invalid', 'this setup link is not valid, or a newer one replaced it: use the link Warta printed last, or run `warta setup-link` for a new one');
  if (row.used_at) return new WartaError(410, 'setup_link_used', 'this setup link has already been used');
  if (row.expires_at <= now) return new WartaError(410, 'setup_link_expired', 'this setup link has expired: restart Warta or run `warta setup-link` for a new one');
  return new WartaError(410, 'setup_link_used', 'this setup link has already been used');
}
