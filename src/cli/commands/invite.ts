import type { Role } from '../../db/schema.js';
import { createInvitation } from '../../invitations/service.js';
import { integerFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

export const inviteCommand = defineOrganisationCommand({
  path: ['invite'],
  summary: 'invite a named person into an organisation; prints the single-use enrollment link',
  flags: {
    name: { type: 'string', description: "the person's display name", required: true },
    email: { type: 'string', description: 'e-mail address (becomes the username)' },
    'employee-id': { type: 'string', description: 'employee id (the username when no e-mail is given)' },
    role: { type: 'string', description: 'member (default), recovery_officer or admin' },
    'ttl-hours': { type: 'string', description: 'hours until the link expires (default WARTA_INVITATION_TTL_HOURS, 72)' },
  },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    const ttlHours = integerFlag(flags, 'ttl-hours');
    const issued = await createInvitation(runtime, { actor: 'cli' }, {
      organisationId: organisation.id,
      displayName: stringFlag(flags, 'name')!,
      email: stringFlag(flags, 'email') ?? null,
      employeeId: stringFlag(flags, 'employee-id') ?? null,
      role: (stringFlag(flags, 'role') ?? 'member') as Role,
      ...(ttlHours === undefined ? {} : { ttlSeconds: ttlHours * 3600 }),
    });
    return {
      invitation: { id: issued.invitation.id, organisation: organisation.name, display_name: issued.invitation.display_name, role: issued.invitation.role, expires_at: issued.invitation.expires_at.toISOString() },
      link: issued.link,
    };
  },
  format: (r) => `Invitation for ${r.invitation.display_name} (${r.invitation.role}, ${r.invitation.organisation}), valid until ${r.invitation.expires_at}.\nHand this link to them in person or over a trusted channel; it works once:\n${r.link}`,
});
