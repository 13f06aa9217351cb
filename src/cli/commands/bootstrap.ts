import { createInvitation } from '../../invitations/service.js';
import { createOrganisation } from '../../orgs/service.js';
import { defineCommand, stringFlag } from '../command.js';
import { CliUsageError } from '../command.js';

export const bootstrapCommand = defineCommand({
  path: ['bootstrap'],
  summary: "create the first organisation and print its first admin's invitation link",
  flags: {
    org: { type: 'string', description: 'organisation name', required: true },
    admin: { type: 'string', description: "the first admin's display name", required: true },
    email: { type: 'string', description: "the admin's e-mail address (username)" },
    'employee-id': { type: 'string', description: "the admin's employee id (username when no e-mail)" },
  },
  async run(flags, io) {
    const email = stringFlag(flags, 'email');
    const employeeId = stringFlag(flags, 'employee-id');
    if (!email && !employeeId) throw new CliUsageError('give the admin an --email or an --employee-id (it becomes their username)');
    const runtime = await io.runtime();
    const organisation = await createOrganisation(runtime, { actor: 'cli' }, { name: stringFlag(flags, 'org')! });
    const issued = await createInvitation(runtime, { actor: 'cli' }, {
      organisationId: organisation.id,
      displayName: stringFlag(flags, 'admin')!,
      email: email ?? null,
      employeeId: employeeId ?? null,
      role: 'admin',
    });
    return {
      organisation: { id: organisation.id, name: organisation.name },
      invitation: { id: issued.invitation.id, role: 'admin', expires_at: issued.invitation.expires_at.toISOString() },
      link: issued.link,
    };
  },
  format: (r) => `Created organisation "${r.organisation.name}".\nFirst admin's invitation (single use, valid until ${r.invitation.expires_at}):\n${r.link}`,
});
