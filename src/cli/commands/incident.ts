import { endOrganisationSessions } from '../../incident/end-organisation-sessions.js';
import { resumeClient, suspendClient } from '../../incident/suspend-client.js';
import { defineCommand, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

const reasonFlag = { type: 'string', description: 'why (kept in the audit log)', required: true } as const;

export const suspendClientCommand = defineCommand({
  path: ['client', 'suspend'],
  summary: 'suspend a client at once: its grants, refresh and access tokens end, and it cannot sign anyone in until resumed',
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true }, reason: reasonFlag },
  async run(flags, io) {
    const runtime = await io.runtime();
    const clientId = stringFlag(flags, 'client-id')!;
    const suspended = await suspendClient(runtime, { actor: 'cli' }, { clientId, reason: stringFlag(flags, 'reason') });
    runtime.clients.forget(clientId);
    return suspended;
  },
  format: (r) =>
    `Suspended client ${r.client_id} (${r.client_name}): ${r.grants_revoked} grant(s) revoked, ${r.backchannel_logouts} back-channel logout(s) queued, ${r.authorization_requests_ended} sign-in(s) in progress ended.\n` +
    'Running instances refuse it at /token within WARTA_CLIENT_CACHE_SECONDS; its access tokens are inactive at introspection and userinfo now.',
});

export const resumeClientCommand = defineCommand({
  path: ['client', 'resume'],
  summary: 'lift a suspension; what it revoked stays revoked',
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true }, reason: reasonFlag },
  async run(flags, io) {
    const runtime = await io.runtime();
    const clientId = stringFlag(flags, 'client-id')!;
    const resumed = await resumeClient(runtime, { actor: 'cli' }, { clientId, reason: stringFlag(flags, 'reason') });
    runtime.clients.forget(clientId);
    return resumed;
  },
  format: (r) => `Resumed client ${r.client_id} (${r.client_name}), suspended since ${r.suspended_at}. Its users sign in to it afresh.`,
});

export const endOrganisationSessionsCommand = defineOrganisationCommand({
  path: ['org', 'end-sessions'],
  summary: "end every session and OIDC grant of an organisation's users at once",
  flags: { reason: reasonFlag },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return endOrganisationSessions(runtime, { actor: 'cli' }, { organisationId: organisation.id, reason: stringFlag(flags, 'reason') });
  },
  format: (r) =>
    `Ended ${r.sessions} session(s) and ${r.grants} grant(s) of ${r.users} user(s) in ${r.organisation}; ${r.backchannel_logouts} back-channel logout(s) and ${r.sets_queued} SET(s) queued.`,
});
