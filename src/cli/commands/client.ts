import { readFileSync } from 'node:fs';
import type { ClientMetadataInput } from '../../clients/metadata.js';
import { type ClientView, deleteClient, listClients, registerClient, rotateClientSecret } from '../../clients/service.js';
import { CliUsageError, defineCommand, type Flags, listFlag, stringFlag } from '../command.js';

function jwksFlag(flags: Flags): unknown {
  const file = stringFlag(flags, 'jwks-file');
  if (file === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliUsageError(`--jwks-file: cannot read a JSON Web Key Set from "${file}": ${error instanceof Error ? error.message : String(error)}`);
  }
}

const describe = (c: ClientView) =>
  [
    `${c.client_id}  ${c.client_name}`,
    `  ${c.application_type} client, ${c.token_endpoint_auth_method}, grants ${c.grant_types.join(', ')}${c.first_party ? ', first-party' : ''}`,
    ...(c.redirect_uris.length ? [`  redirect URIs: ${c.redirect_uris.join(' ')}`] : []),
    ...(c.scope ? [`  scope: ${c.scope}`] : []),
    ...(c.required_acr ? [`  requires: ${c.required_acr}`] : []),
    ...(c.suspended ? [`  SUSPENDED since ${c.suspended.at}: ${c.suspended.reason ?? ''}`] : []),
  ].join('\n');

const secretNotice = (c: ClientView) =>
  c.client_secret === undefined ? '' : `\nclient_secret: ${c.client_secret}\nThis secret is shown once; Warta keeps only a keyed hash of it. Store it in the client's secret store now.`;

export const createClientCommand = defineCommand({
  path: ['client', 'create'],
  summary: 'register an OAuth/OpenID Connect client; prints its client_id (and client_secret, once)',
  flags: {
    name: { type: 'string', description: 'client_name shown on the consent page', required: true },
    'grant-types': { type: 'string', description: 'comma-separated: authorization_code (default), refresh_token, client_credentials' },
    'redirect-uri': { type: 'string', description: 'redirect URI(s), comma-separated; exact match (loopback port excepted)' },
    'post-logout-redirect-uri': { type: 'string', description: 'post-logout redirect URI(s), comma-separated' },
    scope: { type: 'string', description: 'scopes the client may request, space- or comma-separated (default openid profile email [offline_access]); warta:account lets the messenger use /api/me' },
    'application-type': { type: 'string', description: 'web (default) or native (public client: PKCE, no secret)' },
    'auth-method': { type: 'string', description: 'client_secret_basic (default for web), client_secret_post, private_key_jwt, none (native)' },
    'jwks-file': { type: 'string', description: 'JSON Web Key Set file with the public keys of a private_key_jwt client' },
    'first-party': { type: 'boolean', description: 'operated by you: skip the consent page' },
    'required-acr': { type: 'string', description: 'require every sign-in to reach this acr, e.g. urn:warta:acr:phishing-resistant' },
    dpop: { type: 'boolean', description: 'require DPoP-bound tokens (RFC 9449 dpop_bound_access_tokens)' },
    audience: { type: 'string', description: 'aud of the access tokens (default: the client_id)' },
    'backchannel-logout-uri': { type: 'string', description: 'where to POST back-channel logout tokens' },
    'backchannel-logout-session-required': { type: 'boolean', description: 'the client needs sid in logout tokens (always sent)' },
  },
  async run(flags, io) {
    const runtime = await io.runtime();
    const input: ClientMetadataInput = {
      client_name: stringFlag(flags, 'name'),
      grant_types: listFlag(flags, 'grant-types'),
      redirect_uris: listFlag(flags, 'redirect-uri'),
      post_logout_redirect_uris: listFlag(flags, 'post-logout-redirect-uri'),
      scope: stringFlag(flags, 'scope')?.replace(/,/g, ' '),
      application_type: stringFlag(flags, 'application-type'),
      token_endpoint_auth_method: stringFlag(flags, 'auth-method'),
      jwks: jwksFlag(flags),
      first_party: flags['first-party'] === true,
      required_acr: stringFlag(flags, 'required-acr'),
      dpop_bound_access_tokens: flags.dpop === true,
      access_token_audience: stringFlag(flags, 'audience'),
      backchannel_logout_uri: stringFlag(flags, 'backchannel-logout-uri'),
      backchannel_logout_session_required: flags['backchannel-logout-session-required'] === true,
    };
    // Whoever runs the CLI on the host is the instance operator: the only one who may allow reserved scopes.
    return registerClient(runtime, { actor: 'cli' }, input, { authority: 'operator' });
  },
  format: (c) => `Registered client:\n${describe(c)}${secretNotice(c)}`,
});

export const listClientsCommand = defineCommand({
  path: ['client', 'list'],
  summary: 'list registered clients (never their secrets)',
  flags: {},
  async run(_flags, io) {
    return { clients: await listClients((await io.runtime()).db) };
  },
  format: (r) => (r.clients.length ? r.clients.map(describe).join('\n') : 'No clients registered.'),
});

export const rotateClientSecretCommand = defineCommand({
  path: ['client', 'rotate-secret'],
  summary: "replace a client's secret; the old one stops working at once",
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true } },
  async run(flags, io) {
    return rotateClientSecret(await io.runtime(), { actor: 'cli' }, stringFlag(flags, 'client-id')!);
  },
  format: (c) => `New secret for ${c.client_id} (${c.client_name}).${secretNotice(c)}`,
});

export const deleteClientCommand = defineCommand({
  path: ['client', 'delete'],
  summary: 'delete a client and every grant and refresh token issued to it',
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true } },
  async run(flags, io) {
    const clientId = stringFlag(flags, 'client-id')!;
    await deleteClient(await io.runtime(), { actor: 'cli' }, clientId);
    return { client_id: clientId, deleted: true };
  },
  format: (r) => `Deleted client ${r.client_id}; its refresh tokens no longer work and its access tokens introspect as inactive.`,
});
