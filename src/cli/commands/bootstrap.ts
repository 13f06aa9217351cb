import { createInvitation } from '../../invitations/service.js';
import { parseEmailDomains, setEmailDomains } from '../../authority/email-domains.js';
import { createOrganisation } from '../../orgs/service.js';
import { WartaError } from '../../errors.js';
import { firstOrganisationName, holdFirstOrganisationLock } from '../../setup/first-organisation.js';
import { CliUsageError, defineCommand, listFlag, stringFlag } from '../command.js';

export const bootstrapCommand = defineCommand({
  path: ['bootstrap'],
  summary: "create the first organisation and print its first admin's invitation link",
  flags: {
    org: { type: 'string', description: 'organisation name', required: true },
    admin: { type: 'string', description: "the first admin's display name", required: true },
    email: { type: 'string', description: "the admin's e-mail address (username)" },
    'employee-id': { type: 'string', description: "the admin's employee id (username when no e-mail)" },
    'email-domains': { type: 'string', description: "comma-separated e-mail domains the organisation's admins may invite into (default: the admin's e-mail domain)" },
  },
  async run(flags, io) {
    const email = stringFlag(flags, 'email');
    const employeeId = stringFlag(flags, 'employee-id');
    if (!email && !employeeId) throw new CliUsageError('give the admin an --email or an --employee-id (it becomes their username)');
    const domains = parseEmailDomains(listFlag(flags, 'email-domains') ?? (email ? [email.slice(email.lastIndexOf('@') + 1)] : []));
    const runtime = await io.runtime();
    // Under the first-organisation lock, as first-run setup: two bootstraps (or a bootstrap and a setup) cannot both find no organisation.
    const { organisation, issued } = await runtime.db.transaction().execute(async (trx) => {
      await holdFirstOrganisationLock(trx);
      const existing = await firstOrganisationName(trx);
      if (existing !== undefined)
        throw new WartaError(409, 'already_bootstrapped', `Warta is already set up (organisation "${existing}" exists), so bootstrap made nothing. To create another organisation on purpose: warta org create --name NAME --domains example.gov, then warta invite --org NAME --role admin for its first admin`);
      const within = { ...runtime, db: trx };
      const created = await createOrganisation(within, { actor: 'cli' }, { name: stringFlag(flags, 'org')! });
      const organisation = domains.length ? await setEmailDomains(within, { actor: 'cli' }, { organisationId: created.id, domains }) : created;
      const issued = await createInvitation(within, { actor: 'cli' }, {
        organisationId: organisation.id,
        displayName: stringFlag(flags, 'admin')!,
        email: email ?? null,
        employeeId: employeeId ?? null,
        role: 'admin',
        // The first admin is also the first operator (issue 11): later operators need two operators or the CLI.
        grantsOperator: true,
      });
      return { organisation, issued };
    });
    return {
      organisation: { id: organisation.id, name: organisation.name, email_domains: organisation.email_domains },
      invitation: { id: issued.invitation.id, role: 'admin', expires_at: issued.invitation.expires_at.toISOString() },
      link: issued.link,
    };
  },
  format: (r) => `Created organisation "${r.organisation.name}" (invites into: ${r.organisation.email_domains.join(', ') || 'no e-mail domain'}).\nFirst admin's invitation (single use, valid until ${r.invitation.expires_at}):\n${r.link}`,
});

/** Another organisation, on purpose (bootstrap makes only the first); its first admin comes from `warta invite --role admin`. */
export const createOrganisationCommand = defineCommand({
  path: ['org', 'create'],
  summary: 'create another organisation (the operator only; then invite its first admin with `warta invite --org NAME --role admin`)',
  flags: {
    name: { type: 'string', description: 'organisation name', required: true },
    domains: { type: 'string', description: "comma-separated e-mail domains its admins may invite into (default: none)" },
  },
  async run(flags, io) {
    const domains = parseEmailDomains(listFlag(flags, 'domains') ?? []);
    const runtime = await io.runtime();
    const created = await createOrganisation(runtime, { actor: 'cli' }, { name: stringFlag(flags, 'name')! });
    const organisation = domains.length ? await setEmailDomains(runtime, { actor: 'cli' }, { organisationId: created.id, domains }) : created;
    return { organisation: { id: organisation.id, name: organisation.name, email_domains: organisation.email_domains } };
  },
  format: (r) => `Created organisation "${r.organisation.name}" (invites into: ${r.organisation.email_domains.join(', ') || 'no e-mail domain'}).\nInvite its first admin: warta invite --org "${r.organisation.name}" --role admin --display-name NAME --email ADDRESS`,
});
