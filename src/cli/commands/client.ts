import { readFileSync } from 'node:fs';
import type { ClientMetadataInput } from '../../clients/metadata.js';
import { assignClient, type ClientView, deleteClient, listClients, OPERATOR, registerClient, rotateClientSecret, updateClient } from '../../clients/service.js';
import { setClientAdminScopes } from '../../clients/admin-client.js';
import { setClientScim } from '../../clients/scim-client.js';
import { ADMIN_AREAS, adminScopeOf } from '../../clients/admin-scopes.js';
import { findOrganisationByName } from '../../orgs/service.js';
import type { Runtime } from '../../runtime.js';
import { CliUsageError, defineCommand, type Flags, type FlagSpec, listFlag, stringFlag } from '../command.js';

/*
 * Whoever runs the CLI on the host is the instance operator: every client, every
 * setting (first-party, another service's audience, cross-organisation sign-in,
 * reserved scopes), and the owner. Each act is audited with actor `cli`, and an
 * act on an organisation's client is announced to that organisation's admins.
 */

function jwksFlag(flags: Flags): unknown {
  const file = stringFlag(flags, 'jwks-file');
  if (file === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliUsageError(`--jwks-file: cannot read a JSON Web Key Set from "${file}": ${error instanceof Error ? error.message : String(error)}`);
  }
}

const TLS_SUBJECT_KINDS = { dn: 'tls_client_auth_subject_dn', dns: 'tls_client_auth_san_dns', uri: 'tls_client_auth_san_uri', ip: 'tls_client_auth_san_ip', email: 'tls_client_auth_san_email' } as const;

/** `--tls-client-auth-subject dn:CN=…,O=…` (or dns:, uri:, ip:, email:): the RFC 8705 §2.1.2 member it names, the other four cleared (a client has one). */
function tlsSubjectFlag(flags: Flags): ClientMetadataInput {
  const value = stringFlag(flags, 'tls-client-auth-subject');
  if (value === undefined) return {};
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon) as keyof typeof TLS_SUBJECT_KINDS;
  if (colon < 0 || !Object.hasOwn(TLS_SUBJECT_KINDS, kind)) throw new CliUsageError(`--tls-client-auth-subject expects dn:, dns:, uri:, ip: or email: before the value, got "${value}"`);
  return { ...Object.fromEntries(Object.values(TLS_SUBJECT_KINDS).map((name) => [name, null])), [TLS_SUBJECT_KINDS[kind]]: value.slice(colon + 1) };
}

/** The organisation `--org` names, or undefined when the flag is not given. */
async function organisationFlag(runtime: Runtime, flags: Flags): Promise<string | undefined> {
  const name = stringFlag(flags, 'org');
  return name === undefined ? undefined : (await findOrganisationByName(runtime.db, name)).id;
}

/** `yes` / `no` for a setting an update turns on or off. */
function switchFlag(flags: Flags, name: string): boolean | undefined {
  const value = stringFlag(flags, name);
  if (value === undefined) return undefined;
  if (value !== 'yes' && value !== 'no') throw new CliUsageError(`--${name} expects yes or no, got "${value}"`);
  return value === 'yes';
}

/** A value an update may clear with `none`. */
const clearableFlag = (flags: Flags, name: string): string | null | undefined => {
  const value = stringFlag(flags, name);
  return value === 'none' ? null : value;
};

/**
 * Settings `client create` and `client update` both take. On update a flag left
 * out keeps its value, a list replaces the old one, and `none` clears a value.
 */
const SETTING_FLAGS = {
  name: { type: 'string', description: 'client_name shown on the consent page' },
  'redirect-uri': { type: 'string', description: 'redirect URI(s), comma-separated; exact match (loopback port excepted)' },
  'post-logout-redirect-uri': { type: 'string', description: 'post-logout redirect URI(s), comma-separated' },
  scope: { type: 'string', description: 'scopes the client may request, space- or comma-separated (default openid profile email [offline_access]); warta:account lets the messenger use /api/me' },
  'required-acr': { type: 'string', description: 'require every sign-in to reach this acr, e.g. urn:warta:acr:phishing-resistant' },
  audience: { type: 'string', description: 'aud of the access tokens (default: the client_id)' },
  'backchannel-logout-uri': { type: 'string', description: 'where to POST back-channel logout tokens (its host must be on WARTA_OUTBOUND_ALLOW)' },
  'introspection-audiences': { type: 'string', description: 'a resource server: audiences (absolute URIs, comma-separated) whose access tokens it may introspect; none clears' },
  'subject-type': { type: 'string', description: 'public (default: sub is the user id) or pairwise (sub of the client\'s sector: OIDC Core §8.1)' },
  sector: { type: 'string', description: 'a pairwise client\'s sector when its redirect URIs are on several hosts (default: their one host); none clears' },
  'required-groups': { type: 'string', description: 'group paths, comma-separated, one of which a user must be in (or under) to sign in, e.g. /Ministry/Intelligence; none clears' },
  'required-attributes': { type: 'string', description: 'JSON: for every attribute named, the values one of which a user must hold to sign in, e.g. {"clearance_level":["secret","top_secret"]}; none clears' },
  profile: { type: 'string', description: 'security profile: baseline (default) or fapi2 (FAPI 2.0: PAR, DPoP or certificate-bound tokens, private_key_jwt with PS256/ES256/EdDSA or mutual TLS only); the organisation default and WARTA_CLIENT_SECURITY_PROFILE_FLOOR may raise it' },
} as const satisfies Record<string, FlagSpec>;

const settingsInput = (flags: Flags): ClientMetadataInput => ({
  client_name: stringFlag(flags, 'name'),
  redirect_uris: listFlag(flags, 'redirect-uri'),
  post_logout_redirect_uris: listFlag(flags, 'post-logout-redirect-uri'),
  scope: stringFlag(flags, 'scope')?.replace(/,/g, ' '),
  required_acr: clearableFlag(flags, 'required-acr'),
  access_token_audience: clearableFlag(flags, 'audience'),
  backchannel_logout_uri: clearableFlag(flags, 'backchannel-logout-uri'),
  introspection_audiences: stringFlag(flags, 'introspection-audiences') === 'none' ? [] : listFlag(flags, 'introspection-audiences'),
  security_profile: stringFlag(flags, 'profile'),
  subject_type: stringFlag(flags, 'subject-type'),
  sector_identifier: clearableFlag(flags, 'sector'),
  required_groups: stringFlag(flags, 'required-groups') === 'none' ? [] : listFlag(flags, 'required-groups'),
  required_attributes: requiredAttributesFlag(flags),
});

function requiredAttributesFlag(flags: Flags): unknown {
  const text = stringFlag(flags, 'required-attributes');
  if (text === undefined) return undefined;
  if (text === 'none') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliUsageError('--required-attributes must be JSON, e.g. {"clearance_level":["secret","top_secret"]}');
  }
}

const owner = (c: ClientView) => (c.organisation_id === null ? 'the operator (any organisation signs in)' : `organisation ${c.organisation_id}${c.cross_organisation_sign_in ? ' (other organisations sign in too)' : ''}`);

const describe = (c: ClientView) =>
  [
    `${c.client_id}  ${c.client_name}`,
    `  owned by ${owner(c)}`,
    `  ${c.application_type} client, ${c.token_endpoint_auth_method}, grants ${c.grant_types.join(', ')}${c.first_party ? ', first-party' : ''}${c.first_party_native ? ', native sign-in without a browser' : ''}`,
    `  security profile ${c.security_profile}${c.require_pushed_authorization_requests ? ', pushed authorization requests only' : ''}${c.dpop_bound_access_tokens ? ', DPoP-bound tokens only' : ''}`,
    ...(c.redirect_uris.length ? [`  redirect URIs: ${c.redirect_uris.join(' ')}`] : []),
    ...(c.scope ? [`  scope: ${c.scope}`] : []),
    ...(c.required_acr ? [`  requires: ${c.required_acr}`] : []),
    ...(c.required_groups.length ? [`  only members of: ${c.required_groups.join(' or ')}`] : []),
    ...Object.entries(c.required_attributes).map(([name, values]) => `  only people with ${name}: ${values.map((v) => JSON.stringify(v)).join(' or ')}`),
    ...(c.subject_type === 'pairwise' ? [`  pairwise sub, sector ${c.sector_identifier ?? 'of its redirect URIs\' host'}`] : []),
    ...(c.access_token_audience ? [`  access token audience: ${c.access_token_audience}`] : []),
    ...(c.require_dpop_nonce ? ['  DPoP proofs need a server nonce'] : []),
    ...(c.introspection_audiences.length ? [`  may introspect tokens for: ${c.introspection_audiences.join(' ')}`] : []),
    ...Object.values(TLS_SUBJECT_KINDS).flatMap((name) => (c[name] ? [`  TLS client certificate ${name.replace('tls_client_auth_', '').replace('_', ' ')}: ${c[name]}`] : [])),
    ...(c.tls_client_certificate_bound_access_tokens ? ['  access tokens bound to the TLS client certificate'] : []),
    ...(c.suspended ? [`  SUSPENDED since ${c.suspended.at}: ${c.suspended.reason ?? ''}`] : []),
  ].join('\n');

const secretNotice = (c: ClientView) =>
  c.client_secret === undefined ? '' : `\nclient_secret: ${c.client_secret}\nThis secret is shown once; Warta keeps only a keyed hash of it. Store it in the client's secret store now.`;

export const createClientCommand = defineCommand({
  path: ['client', 'create'],
  summary: 'register an OAuth/OpenID Connect client; prints its client_id (and client_secret, once)',
  flags: {
    ...SETTING_FLAGS,
    name: { ...SETTING_FLAGS.name, required: true },
    org: { type: 'string', description: "the owning organisation's name: its admins manage the client and only its users sign in (default: the operator's client, any organisation)" },
    'cross-organisation': { type: 'boolean', description: "an organisation's client that also accepts users of other organisations" },
    'grant-types': { type: 'string', description: 'comma-separated: authorization_code (default), refresh_token, client_credentials' },
    'application-type': { type: 'string', description: 'web (default) or native (public client: PKCE, no secret)' },
    'auth-method': { type: 'string', description: 'client_secret_basic (default for web), client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none (native)' },
    'jwks-file': { type: 'string', file: true, description: 'JSON Web Key Set file with the public keys of a private_key_jwt client, or of a self_signed_tls_client_auth client\'s certificates' },
    'tls-client-auth-subject': { type: 'string', description: 'for tls_client_auth, what the CA-issued certificate must carry: dn:CN=…,O=…,C=… or dns:, uri:, ip:, email: a subject alternative name' },
    'certificate-bound': { type: 'boolean', description: 'bind access tokens to the TLS client certificate (RFC 8705 tls_client_certificate_bound_access_tokens)' },
    'first-party': { type: 'boolean', description: 'operated by you: skip the consent page' },
    'first-party-native': { type: 'boolean', description: 'with --application-type native: the app may also sign users in with a passkey without a browser (docs/messenger.md)' },
    dpop: { type: 'boolean', description: 'require DPoP-bound tokens (RFC 9449 dpop_bound_access_tokens; implied by --profile fapi2)' },
    'dpop-nonce': { type: 'boolean', description: 'require a server-provided nonce in DPoP proofs (RFC 9449 §8, §9)' },
    'require-par': { type: 'boolean', description: 'accept only pushed authorization requests (RFC 9126 require_pushed_authorization_requests; implied by --profile fapi2)' },
    'backchannel-logout-session-required': { type: 'boolean', description: 'the client needs sid in logout tokens (always sent)' },
  },
  async run(flags, io) {
    const runtime = await io.runtime();
    const input: ClientMetadataInput = {
      ...settingsInput(flags),
      grant_types: listFlag(flags, 'grant-types'),
      application_type: stringFlag(flags, 'application-type'),
      token_endpoint_auth_method: stringFlag(flags, 'auth-method'),
      jwks: jwksFlag(flags),
      first_party: flags['first-party'] === true,
      first_party_native: flags['first-party-native'] === true,
      // Left out rather than false when not given: fapi2 implies both.
      dpop_bound_access_tokens: flags.dpop === true ? true : undefined,
      require_dpop_nonce: flags['dpop-nonce'] === true,
      require_pushed_authorization_requests: flags['require-par'] === true ? true : undefined,
      ...tlsSubjectFlag(flags),
      tls_client_certificate_bound_access_tokens: flags['certificate-bound'] === true,
      backchannel_logout_session_required: flags['backchannel-logout-session-required'] === true,
      cross_organisation_sign_in: flags['cross-organisation'] === true,
    };
    return registerClient(runtime, { actor: 'cli' }, input, { authority: OPERATOR, organisationId: (await organisationFlag(runtime, flags)) ?? null });
  },
  format: (c) => `Registered client:\n${describe(c)}${secretNotice(c)}`,
});

export const listClientsCommand = defineCommand({
  path: ['client', 'list'],
  summary: 'list registered clients (never their secrets), with their owners',
  flags: { org: { type: 'string', description: "only this organisation's clients" } },
  async run(flags, io) {
    const runtime = await io.runtime();
    const organisationId = await organisationFlag(runtime, flags);
    return { clients: await listClients(runtime.db, OPERATOR, organisationId === undefined ? {} : { organisationId }) };
  },
  format: (r) => (r.clients.length ? r.clients.map(describe).join('\n') : 'No clients registered.'),
});

export const rotateClientSecretCommand = defineCommand({
  path: ['client', 'rotate-secret'],
  summary: "replace a client's secret; the old one stops working at once",
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true } },
  async run(flags, io) {
    return rotateClientSecret(await io.runtime(), { actor: 'cli' }, stringFlag(flags, 'client-id')!, OPERATOR);
  },
  format: (c) => `New secret for ${c.client_id} (${c.client_name}).${secretNotice(c)}`,
});

export const deleteClientCommand = defineCommand({
  path: ['client', 'delete'],
  summary: 'delete a client and every grant and refresh token issued to it',
  flags: { 'client-id': { type: 'string', description: 'the client_id', required: true } },
  async run(flags, io) {
    const clientId = stringFlag(flags, 'client-id')!;
    await deleteClient(await io.runtime(), { actor: 'cli' }, clientId, OPERATOR);
    return { client_id: clientId, deleted: true };
  },
  format: (r) => `Deleted client ${r.client_id}; its refresh tokens no longer work and its access tokens introspect as inactive.`,
});

export const updateClientCommand = defineCommand({
  path: ['client', 'update'],
  summary: "change a client's settings (flags left out keep their value, a list replaces the old one, none clears a value), including those only the operator sets",
  flags: {
    'client-id': { type: 'string', description: 'the client_id', required: true },
    ...SETTING_FLAGS,
    'first-party': { type: 'string', description: 'yes: users are not asked to consent; no: they are' },
    'first-party-native': { type: 'string', description: 'yes: the native app may sign users in without a browser (authorization challenge endpoint); no: only through the browser' },
    'cross-organisation': { type: 'string', description: "yes: users of other organisations sign in too; no: only the owner's (their grants are revoked)" },
    dpop: { type: 'string', description: 'yes or no: require DPoP-bound tokens' },
    'dpop-nonce': { type: 'string', description: 'yes or no: require a server-provided nonce in DPoP proofs' },
    'require-par': { type: 'string', description: 'yes or no: accept only pushed authorization requests' },
    'tls-client-auth-subject': { type: 'string', description: 'for tls_client_auth, replace the subject its certificate must carry: dn:…, dns:, uri:, ip: or email:' },
    'certificate-bound': { type: 'string', description: 'yes or no: bind access tokens to the TLS client certificate' },
  },
  async run(flags, io) {
    const input: ClientMetadataInput = {
      ...settingsInput(flags),
      ...tlsSubjectFlag(flags),
      tls_client_certificate_bound_access_tokens: switchFlag(flags, 'certificate-bound'),
      first_party: switchFlag(flags, 'first-party'),
      first_party_native: switchFlag(flags, 'first-party-native'),
      cross_organisation_sign_in: switchFlag(flags, 'cross-organisation'),
      dpop_bound_access_tokens: switchFlag(flags, 'dpop'),
      require_dpop_nonce: switchFlag(flags, 'dpop-nonce'),
      require_pushed_authorization_requests: switchFlag(flags, 'require-par'),
    };
    return updateClient(await io.runtime(), { actor: 'cli' }, stringFlag(flags, 'client-id')!, input, { authority: OPERATOR });
  },
  format: (c) => `Updated client:\n${describe(c)}`,
});

export const assignClientCommand = defineCommand({
  path: ['client', 'assign'],
  summary: 'give a client to an organisation (its admins then manage it), or back to the operator; grants of users it no longer accepts are revoked',
  flags: {
    'client-id': { type: 'string', description: 'the client_id', required: true },
    org: { type: 'string', description: 'the organisation that will own the client' },
    operator: { type: 'boolean', description: "make it the operator's client again (any organisation signs in)" },
  },
  async run(flags, io) {
    if ((flags.org === undefined) === (flags.operator === undefined)) throw new CliUsageError('give exactly one of --org or --operator');
    const runtime = await io.runtime();
    const organisationId = (await organisationFlag(runtime, flags)) ?? null;
    return assignClient(runtime, { actor: 'cli' }, stringFlag(flags, 'client-id')!, organisationId);
  },
  format: (c) => `Client ${c.client_id} (${c.client_name}) is now owned by ${owner(c)}.${c.grants_revoked ? ` Revoked ${c.grants_revoked} grant(s) of users it no longer accepts.` : ''}`,
});

export const setClientAdminScopesCommand = defineCommand({
  path: ['client', 'set-admin-scopes'],
  summary: "make a client of an organisation an admin client: the admin API areas its access tokens may reach (DPoP-bound only), or --none to take them all away",
  flags: {
    'client-id': { type: 'string', description: 'the client_id', required: true },
    scopes: { type: 'string', description: `comma-separated, from ${ADMIN_AREAS.map(adminScopeOf).join(', ')} (the area name alone also works)` },
    none: { type: 'boolean', description: 'no admin scope: an ordinary client again' },
  },
  async run(flags, io) {
    if ((flags.scopes === undefined) === (flags.none === undefined)) throw new CliUsageError('give exactly one of --scopes or --none');
    const scopes = flags.none ? [] : (listFlag(flags, 'scopes') ?? []).map((scope) => ((ADMIN_AREAS as readonly string[]).includes(scope) ? `warta:admin:${scope}` : scope));
    if (!flags.none && scopes.length === 0) throw new CliUsageError('--scopes lists no scope; use --none to take them all away');
    return setClientAdminScopes(await io.runtime(), { actor: 'cli' }, { clientId: stringFlag(flags, 'client-id')!, scopes });
  },
  format: (r) => (r.admin_scopes.length ? `Client ${r.client_id} may now hold ${r.admin_scopes.join(' ')} (in DPoP-bound tokens only); its settings and secret are now the operator's alone.` : `Client ${r.client_id} holds no admin scope.`),
});

export const setClientScimCommand = defineCommand({
  path: ['client', 'set-scim'],
  summary: "let a client of an organisation provision its people through SCIM (/scim/v2, the scim scope, client credentials), or --off to stop it",
  flags: {
    'client-id': { type: 'string', description: 'the client_id', required: true },
    on: { type: 'boolean', description: 'the client may hold the scim scope' },
    off: { type: 'boolean', description: 'the client may no longer hold it (its tokens stop working at once)' },
  },
  async run(flags, io) {
    if ((flags.on === undefined) === (flags.off === undefined)) throw new CliUsageError('give exactly one of --on or --off');
    return setClientScim(await io.runtime(), { actor: 'cli' }, { clientId: stringFlag(flags, 'client-id')!, allowed: flags.on === true });
  },
  format: (r) => (r.scim ? `Client ${r.client_id} may now provision its organisation's people through SCIM (scope scim).` : `Client ${r.client_id} no longer provisions through SCIM.`),
});
