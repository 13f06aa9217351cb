import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database, Organisation } from '../db/schema.js';
import { withinTransaction } from '../db/transaction.js';
import { announceToAdmins } from '../events/announce.js';
import { invalidRequest, notFound, WartaError } from '../errors.js';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Lower-cased, checked, de-duplicated domains; refuses anything that is not a plain DNS name. */
export function parseEmailDomains(raw: readonly string[]): string[] {
  const domains = [...new Set(raw.map((domain) => domain.trim().toLowerCase().replace(/^@/, '')).filter(Boolean))];
  for (const domain of domains) if (!DOMAIN.test(domain)) throw invalidRequest(`"${domain}" is not an e-mail domain`);
  if (domains.length > 50) throw invalidRequest('at most 50 e-mail domains per organisation');
  return domains;
}

export const emailDomainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/**
 * Organisation admins invite only into their own e-mail domains, so one
 * organisation cannot claim `someone@b.gov` before organisation B does
 * (issue 11, attack 10). Exact domain match: a subdomain is listed on its own.
 * An organisation with no domains listed invites by e-mail only through the
 * operator (fail closed). The operator (CLI) is not bound by the list.
 */
export function assertEmailInDomains(organisation: Pick<Organisation, 'email_domains'>, email: string): void {
  if (!organisation.email_domains.includes(emailDomainOf(email)))
    throw new WartaError(403, 'email_domain_not_allowed', `your organisation may not invite addresses at ${emailDomainOf(email)}; the instance operator can (warta invite)`);
}

/** Replaces the organisation's e-mail domains (an operator act), announced to its admins and audited in the same transaction (`deps.db`'s, when it is one). */
export async function setEmailDomains(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { organisationId: string; domains: readonly string[] }): Promise<Organisation> {
  const domains = parseEmailDomains(input.domains);
  return withinTransaction(deps.db, async (trx) => {
    const before = await trx.selectFrom('organisations').select('email_domains').where('id', '=', input.organisationId).forUpdate().executeTakeFirst();
    if (!before) throw notFound('organisation_not_found', 'no such organisation');
    const updated = await trx.updateTable('organisations').set({ email_domains: JSON.stringify(domains) }).where('id', '=', input.organisationId).returningAll().executeTakeFirstOrThrow();
    await announceToAdmins(trx, deps.clock, input.organisationId, { type: 'organisation_changed', details: { change: 'email_domains_set', domains } });
    await appendAudit(trx, deps, context, { action: 'organisation.email_domains_set', subject: `org:${input.organisationId}`, details: { before: before.email_domains, after: domains } });
    return updated;
  });
}
