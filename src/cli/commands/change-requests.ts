import { approveChangeRequest, rejectChangeRequest } from '../../change-requests/approve.js';
import { type ChangeRequestView, listChangeRequests } from '../../authority/change-requests.js';
import { defineCommand, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

/*
 * The operator's hand on changes to sensitive groups and attributes that wait for
 * a second admin: list them, approve one (it takes effect now) or reject it. Like
 * `warta user approve-request`, the operator may approve any organisation's.
 */

const describe = (q: ChangeRequestView) => {
  const what =
    q.kind === 'attribute.set'
      ? `set ${q.attribute} = ${JSON.stringify('value' in q.change ? q.change.value : null)} for user:${q.person_id}`
      : q.kind === 'attribute.unflag'
        ? `clear the sensitive flag of ${q.attribute}`
        : q.kind === 'group.move'
          ? `move ${'old_path' in q.change ? `${q.change.old_path} to ${q.change.new_path}` : `group:${q.group_id}`}`
          : q.kind === 'group.unflag'
            ? `clear the sensitive flag of group:${q.group_id}`
            : `${q.kind === 'group.add_member' ? 'add' : 'remove'} user:${q.person_id} ${q.kind === 'group.add_member' ? 'to' : 'from'} group:${q.group_id}`;
  return `${q.id}  ${what}, asked by user:${q.requested_by}, expires ${q.expires_at}${q.reason ? `: ${q.reason}` : ''}`;
};

export const listChangeRequestsCommand = defineOrganisationCommand({
  path: ['change-request', 'list'],
  summary: "an organisation's changes to sensitive groups and attributes waiting for a second admin",
  flags: {},
  async run(_flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { change_requests: await listChangeRequests(runtime.db, runtime.clock, organisation.id) };
  },
  format: (r) => (r.change_requests.length === 0 ? 'Nothing waits for approval.' : r.change_requests.map(describe).join('\n')),
});

const idFlag = { id: { type: 'string', description: 'the request id (warta change-request list)', required: true } } as const;

export const approveChangeRequestCommand = defineCommand({
  path: ['change-request', 'approve'],
  summary: "approve an admin's pending change to a sensitive group or attribute; it takes effect now",
  flags: idFlag,
  async run(flags, io) {
    const runtime = await io.runtime();
    return approveChangeRequest(runtime, { actor: 'cli' }, { approver: { kind: 'cli' }, requestId: stringFlag(flags, 'id')! });
  },
  format: (r) => `Approved and applied: ${describe(r.request)}`,
});

export const rejectChangeRequestCommand = defineCommand({
  path: ['change-request', 'reject'],
  summary: "reject an admin's pending change to a sensitive group or attribute; nothing changes",
  flags: idFlag,
  async run(flags, io) {
    const runtime = await io.runtime();
    return rejectChangeRequest(runtime, { actor: 'cli' }, { decider: { kind: 'cli' }, requestId: stringFlag(flags, 'id')! });
  },
  format: (r) => `Rejected: ${describe(r.request)}`,
});
