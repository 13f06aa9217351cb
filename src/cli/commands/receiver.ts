import { readFileSync } from 'node:fs';
import { addReceiver, listReceivers, receiverView, removeReceiver } from '../../events/receivers.js';
import { CliUsageError, type Flags, listFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

type ReceiverView = ReturnType<typeof receiverView>;

const describe = (r: ReceiverView) =>
  `${r.id}  ${r.url}  aud=${r.audience}  events=${r.events ? r.events.join(',') : 'all'}${r.has_bearer_token ? '  (bearer token)' : ''}${r.health.failing_since ? `  FAILING since ${r.health.failing_since}: ${r.health.last_error}` : ''}`;

/** The bearer token read from the file `--bearer-token-file` names, so it stays off the command line. */
function bearerTokenFlag(flags: Flags): string | undefined {
  const file = stringFlag(flags, 'bearer-token-file');
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new CliUsageError(`cannot read --bearer-token-file "${file}": ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

export const addReceiverCommand = defineOrganisationCommand({
  path: ['receiver', 'add'],
  summary: 'register an endpoint that receives Security Event Tokens (RFC 8935 push) for an organisation',
  flags: {
    url: { type: 'string', description: 'the receiver endpoint (https; http only on loopback outside production); its host must be on WARTA_OUTBOUND_ALLOW', required: true },
    audience: { type: 'string', description: 'the `aud` the receiver expects in its SETs', required: true },
    events: { type: 'string', description: 'comma-separated event types (default: all), e.g. session_revoked,credential_change' },
    'bearer-token-file': { type: 'string', file: true, description: "file holding the bearer token for the receiver's endpoint (kept off the command line and shell history)" },
  },
  async run(flags, io) {
    const events = listFlag(flags, 'events');
    const bearerToken = bearerTokenFlag(flags);
    const { runtime, organisation } = await io.openOrganisation();
    const receiver = await addReceiver(runtime, { actor: 'cli' }, {
      organisationId: organisation.id,
      url: stringFlag(flags, 'url')!,
      audience: stringFlag(flags, 'audience')!,
      ...(events === undefined ? {} : { events }),
      ...(bearerToken === undefined ? {} : { bearerToken }),
    });
    return { receiver: receiverView(receiver) };
  },
  format: (r) => `Registered event receiver:\n${describe(r.receiver)}`,
});

export const listReceiversCommand = defineOrganisationCommand({
  path: ['receiver', 'list'],
  summary: "list an organisation's event receivers with their delivery health",
  flags: {},
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { receivers: (await listReceivers(runtime.db, organisation.id)).map(receiverView) };
  },
  format: (r) => (r.receivers.length ? r.receivers.map(describe).join('\n') : 'No event receivers.'),
});

export const removeReceiverCommand = defineOrganisationCommand({
  path: ['receiver', 'remove'],
  summary: 'remove an event receiver; SETs still queued for it are cancelled',
  flags: {
    id: { type: 'string', description: 'the receiver id (see warta receiver list)', required: true },
  },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { receiver: receiverView(await removeReceiver(runtime, { actor: 'cli' }, { id: stringFlag(flags, 'id')!, organisationId: organisation.id })) };
  },
  format: (r) => `Removed event receiver ${r.receiver.id} (${r.receiver.url}).`,
});
