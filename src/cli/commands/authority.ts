import { parseEmailDomains, setEmailDomains } from '../../authority/email-domains.js';
import { waiveOfficerCooldown } from '../../authority/officer-cooldown.js';
import { notFound } from '../../errors.js';
import { findUserByUsername } from '../../users/service.js';
import { defineCommand, listFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

export const setEmailDomainsCommand = defineOrganisationCommand({
  path: ['org', 'email-domains'],
  summary: "set the e-mail domains an organisation's admins may invite into (others need `warta invite`)",
  flags: {
    domains: { type: 'string', description: 'comma-separated domains, e.g. mf.gov.pl,kprm.gov.pl (empty: none)', required: true },
  },
  async run(flags, io) {
    const domains = parseEmailDomains(listFlag(flags, 'domains') ?? []);
    const { runtime, organisation } = await io.openOrganisation();
    const updated = await setEmailDomains(runtime, { actor: 'cli' }, { organisationId: organisation.id, domains });
    return { organisation: updated.name, email_domains: updated.email_domains };
  },
  format: (r) => `${r.organisation} invites into: ${r.email_domains.length ? r.email_domains.join(', ') : '(no domain: only the operator invites by e-mail)'}`,
});

export const waiveOfficerCooldownCommand = defineCommand({
  path: ['officer', 'waive-cooldown'],
  summary: 'let a named, newly appointed recovery officer act on cases at once (e.g. the first officers of a new organisation)',
  flags: { username: { type: 'string', description: "the officer's username", required: true } },
  async run(flags, io) {
    const runtime = await io.runtime();
    const officer = await findUserByUsername(runtime.db, stringFlag(flags, 'username')!);
    if (!officer) throw notFound('officer_not_found', 'no recovery officer with that username');
    const actsFrom = await waiveOfficerCooldown(runtime, { actor: 'cli' }, officer.id);
    return { username: officer.username, acts_from: actsFrom.toISOString() };
  },
  format: (r) => `${r.username} may act on recovery cases from ${r.acts_from}.`,
});
