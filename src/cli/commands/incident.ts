import { endOrganisationSessions } from '../../incident/end-organisation-sessions.js';
import { resumeClient, suspendClient } from '../../incident/suspend-client.js';
import { defineCommand, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

const reasonFlag = { type: 'string', description: 'why (kept in the audit log)', required: true } as const;

/** Suspending and resuming share their flags, and a running instance's client cache forgets the client either way. */
function suspensionCommand<R>(verb: 'suspend' | 'resume', summary: string, act: (...args: Parameters<typeof suspendClient>) => Promise<R>, format: (result: R) => string) {
  return defineCommand({
    path: ['client', verb],
    summary,
    flags: { 'client-id': { type: 'string', description: 'the client_id', required: true }, reason: reasonFlag },
    async run(flags, io) {
      const runtime = await io.runtime();
      const clientId = stringFlag(flags, 'client-id')!;
      const result = await act(runtime, { actor: 'cli' }, { clientId, reason: stringFlag(flags, 'reason') });
      runtime.clients.forget(clientId);
      return result;
    },
    format,
  });
}

export const suspendClientCommand = suspensionCommand(
  'suspend',
  'suspend a client at once: its grants, refresh and access tokens end, and it cannot sign anyone in until resumed',
  suspendClient,
  (r) =>
    `Suspended client ${r.client_id} (${r.client_name}): ${r.grants_revoked} grant(s) revoked, ${r.backchannel_logouts} back-channel logout(s) queued, ${r.authorization_requests_ended} sign-in(s) in progress ended.\n` +
    'Running instances refuse it at /token within WARTA_CLIENT_CACHE_SECONDS; its access tokens are inactive at introspection and userinfo now.',
);

export const resumeClientCommand = suspensionCommand(
  'resume',
  'lift a suspension; what it revoked stays revoked',
  resumeClient,
  (r) => `Resumed client ${r.client_id} (${r.client_name}), suspended since ${r.suspended_at}. Its users sign in to it afresh.`,
);

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
