import { readFileSync } from 'node:fs';
import { addReceiver, listReceivers, receiverView, removeReceiver } from '../../events/receivers.js';
import { findOrganisationByName } from '../../orgs/service.js';
import { CliUsageError, defineCommand, stringFlag } from '../command.js';

type ReceiverView = ReturnType<typeof receiverView>;

const describe = (r: ReceiverView) =>
  `${r.id}  ${r.url}  aud=${r.audience}  events=${r.events ? r.events.join(',') : 'all'}${r.has_bearer_token ? '  (bearer token)' : ''}${r.health.failing_since ? `  FAILING since ${r.health.failing_since}: ${r.health.last_error}` : ''}`;

export const addReceiverCommand = defineCommand({
  path: ['receiver', 'add'],
  summary: 'register an endpoint that receives Security Event Tokens (RFC 8935 push) for an organisation',
  flags: {
    org: { type: 'string', description: 'organisation name', required: true },
    url: { type: 'string', description: 'the receiver endpoint (https; http only on loopback outside production)', required: true },
    audience: { type: 'string', description: 'the `aud` the receiver expects in its SETs', required: true },
    events: { type: 'string', description: 'comma-separated event types (default: all), e.g. session_revoked,credential_change' },
    'bearer-token-file': { type: 'string', description: "file holding the bearer token for the receiver's endpoint (kept off the command line and shell history)" },
  },
  async run(flags, io) {
    const events = stringFlag(flags, 'events')?.split(',').map((s) => s.trim()).filter(Boolean);
    const tokenFile = stringFlag(flags, 'bearer-token-file');
    let bearerToken: string | undefined;
    if (tokenFile !== undefined) {
      try {
        bearerToken = readFileSync(tokenFile, 'utf8').trim();
      } catch (error) {
        throw new CliUsageError(`cannot read --bearer-token-file "${tokenFile}": ${(error as NodeJS.ErrnoException).code ?? error}`);
      }
    }
    const runtime = await io.runtime();
    const organisation = await findOrganisationByName(runtime.db, stringFlag(flags, 'org')!);
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

export const listReceiversCommand = defineCommand({
  path: ['receiver', 'list'],
  summary: "list an organisation's event receivers with their delivery health",
  flags: { org: { type: 'string', description: 'organisation name', required: true } },
  async run(flags, io) {
    const runtime = await io.runtime();
    const organisation = await findOrganisationByName(runtime.db, stringFlag(flags, 'org')!);
    return { receivers: (await listReceivers(runtime.db, organisation.id)).map(receiverView) };
  },
  format: (r) => (r.receivers.length ? r.receivers.map(describe).join('\n') : 'No event receivers.'),
});

export const removeReceiverCommand = defineCommand({
  path: ['receiver', 'remove'],
  summary: 'remove an event receiver; SETs still queued for it are cancelled',
  flags: {
    org: { type: 'string', description: 'organisation name', required: true },
    id: { type: 'string', description: 'the receiver id (see warta receiver list)', required: true },
  },
  async run(flags, io) {
    const runtime = await io.runtime();
    const organisation = await findOrganisationByName(runtime.db, stringFlag(flags, 'org')!);
    return { receiver: receiverView(await removeReceiver(runtime, { actor: 'cli' }, { id: stringFlag(flags, 'id')!, organisationId: organisation.id })) };
  },
  format: (r) => `Removed event receiver ${r.receiver.id} (${r.receiver.url}).`,
});
