import { approveRoleRequest } from '../../people/approve-request.js';
import { listRoleRequests } from '../../people/role-requests.js';
import { grantRole, revokeRole } from '../../people/roles.js';
import { defineCommand, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';
import { personId } from './people.js';

/*
 * The operator's hand on roles: grants take effect at once (the operator is the
 * second pair of eyes the admin API asks for), `operator` is given or taken only
 * here, and the operator may approve a request an admin opened.
 */

export const setRoleCommand = defineCommand({
  path: ['user', 'set-role'],
  summary: 'give a person a role, or take it away with --remove (never the last active admin of an organisation)',
  flags: {
    username: { type: 'string', description: 'the person’s username (their e-mail or employee id)', required: true },
    role: { type: 'string', description: 'recovery_officer, admin or operator', required: true },
    remove: { type: 'boolean', description: 'take the role away instead of giving it' },
    reason: { type: 'string', description: 'why (kept in the audit log)', required: true },
  },
  async run(flags, io) {
    const runtime = await io.runtime();
    const change = { actor: { kind: 'cli' as const }, personId: await personId(runtime, flags), role: stringFlag(flags, 'role'), reason: stringFlag(flags, 'reason') };
    return flags.remove === true ? revokeRole(runtime, { actor: 'cli' }, change) : grantRole(runtime, { actor: 'cli' }, change);
  },
  format: (r) => `${r.status === 'revoked' ? `Took ${r.role} away from` : `Gave ${r.role} to`} ${r.username}; roles now: ${'roles' in r ? r.roles.join(', ') : r.role}.`,
});

export const listRoleRequestsCommand = defineOrganisationCommand({
  path: ['user', 'role-requests'],
  summary: "an organisation's role grants and privileged re-enables waiting for a second admin",
  flags: {},
  async run(_flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { role_requests: await listRoleRequests(runtime.db, runtime.clock, organisation.id) };
  },
  format: (r) =>
    r.role_requests.length === 0
      ? 'Nothing waits for approval.'
      : r.role_requests.map((q) => `${q.id}  ${q.kind === 'grant' ? `grant ${q.role}` : 'enable'} for user:${q.person_id}, asked by user:${q.requested_by}, expires ${q.expires_at}: ${q.reason}`).join('\n'),
});

export const approveRoleRequestCommand = defineCommand({
  path: ['user', 'approve-request'],
  summary: "approve an admin's pending role grant or privileged re-enable; it takes effect now",
  flags: { id: { type: 'string', description: 'the request id (warta user role-requests)', required: true } },
  async run(flags, io) {
    const runtime = await io.runtime();
    return approveRoleRequest(runtime, { actor: 'cli' }, { approver: { kind: 'cli' }, requestId: stringFlag(flags, 'id')! });
  },
  format: (r) => `Approved: ${r.request.kind === 'grant' ? `${r.person.username} now holds ${r.request.role}` : `${r.person.username} is enabled`}; roles: ${r.person.roles.join(', ')}.`,
});
