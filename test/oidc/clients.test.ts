/** Client registration by admins: `warta client …` and /api/admin/clients (RFC 7591 metadata names). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPlugin } from 'kysely';
import { runCli } from '../../src/cli/main.js';
import { ClientDirectory } from '../../src/clients/directory.js';
import { validateClientMetadata, type ClientMetadataInput } from '../../src/clients/metadata.js';
import { deleteClient, OPERATOR, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { keyedHash } from '../../src/crypto/random.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestRuntime, createTestUser, seedDataDirWithMigratedSnapshot, sessionCookie, TEST_MASTER_KEY, testClient, testConfig, usingPostgres } from '../support/runtime.js';
import { errorFrom } from './expect-error.js';

const runtime = await createTestRuntime();
const { request } = testClient(runtime);

const tokenRequest = (clientId: string, secret: string) =>
  request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` }, body: 'grant_type=client_credentials' });

describe('client metadata', () => {
  const valid = (input: ClientMetadataInput, developmentMode = false) => validateClientMetadata({ client_name: 'Portal', ...input }, { developmentMode });
  const refusal = (input: ClientMetadataInput, developmentMode = false) => errorFrom(() => valid(input, developmentMode));

  it('defaults a web client to the code flow with client_secret_basic and OpenID scopes', () => {
    expect(valid({ redirect_uris: ['https://portal.example.gov/cb'] })).toMatchObject({ application_type: 'web', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], scope: 'openid profile email' });
    expect(valid({ redirect_uris: ['https://portal.example.gov/cb'], grant_types: ['authorization_code', 'refresh_token'] }).scope).toBe('openid profile email offline_access');
  });

  it('refuses grant types Warta does not offer', () => {
    for (const grant of ['implicit', 'password', 'urn:ietf:params:oauth:grant-type:device_code']) expect(refusal({ grant_types: [grant] }).code).toBe('invalid_client_metadata');
  });

  it('keeps native clients public and web clients confidential', () => {
    expect(valid({ application_type: 'native', redirect_uris: ['gov.messenger.app:/cb', 'http://127.0.0.1/cb'] }).token_endpoint_auth_method).toBe('none');
    expect(refusal({ application_type: 'native', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['gov.messenger.app:/cb'] }).code).toBe('invalid_client_metadata');
    expect(refusal({ token_endpoint_auth_method: 'none', redirect_uris: ['https://portal.example.gov/cb'] }).code).toBe('invalid_client_metadata');
  });

  it('applies the redirect URI rules: https for web outside development, no fragments, no bare private-use schemes', () => {
    expect(refusal({ redirect_uris: ['http://127.0.0.1:8080/cb'] }).code).toBe('invalid_redirect_uri');
    expect(valid({ redirect_uris: ['http://127.0.0.1:8080/cb'] }, true).redirect_uris).toEqual(['http://127.0.0.1:8080/cb']);
    expect(refusal({ redirect_uris: ['https://portal.example.gov/cb#x'] }).code).toBe('invalid_redirect_uri');
    expect(refusal({ application_type: 'native', redirect_uris: ['myapp:/cb'] }).code).toBe('invalid_redirect_uri');
    expect(refusal({}).code).toBe('invalid_redirect_uri');
  });

  it('needs public keys, and only public keys, for private_key_jwt', () => {
    expect(refusal({ token_endpoint_auth_method: 'private_key_jwt', redirect_uris: ['https://p.example.gov/cb'] }).code).toBe('invalid_client_metadata');
    const privateKey = { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' };
    expect(refusal({ token_endpoint_auth_method: 'private_key_jwt', redirect_uris: ['https://p.example.gov/cb'], jwks: { keys: [privateKey] } }).description).toMatch(/public keys only/);
  });

  it('refuses malformed scopes, offline_access without refresh tokens, unknown acrs and an http back-channel URI', () => {
    expect(refusal({ redirect_uris: ['https://p.example.gov/cb'], scope: 'openid "quoted"' }).code).toBe('invalid_client_metadata');
    expect(refusal({ redirect_uris: ['https://p.example.gov/cb'], scope: 'openid offline_access' }).code).toBe('invalid_client_metadata');
    expect(refusal({ redirect_uris: ['https://p.example.gov/cb'], required_acr: 'urn:other:acr' }).code).toBe('invalid_client_metadata');
    expect(refusal({ redirect_uris: ['https://p.example.gov/cb'], backchannel_logout_uri: 'http://rp.example.gov/logout' }).code).toBe('invalid_client_metadata');
  });
});

describe('warta client (CLI)', () => {
  // The CLI opens its own runtime, as `warta` does: on this test's PostgreSQL database, or a PGlite folder.
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    WARTA_MASTER_KEY: TEST_MASTER_KEY,
    WARTA_LOG_LEVEL: 'silent',
    WARTA_DATA_DIR: path.join(mkdtempSync(path.join(tmpdir(), 'warta-client-cli-')), 'data'),
    ...(usingPostgres ? { DATABASE_URL: runtime.databaseUrl! } : {}),
  };
  beforeAll(() => (usingPostgres ? undefined : seedDataDirWithMigratedSnapshot(env.WARTA_DATA_DIR!)));
  const cli = async (...argv: string[]) => {
    const result = await runCli(argv, env, () => {});
    return { ...result, json: () => JSON.parse(result.stdout) };
  };

  it('creates, lists, rotates and deletes a client with RFC 7591 names in --json; the secret is shown once and stored as a keyed hash', async () => {
    const created = await cli('client', 'create', '--name', 'Directory sync', '--grant-types', 'client_credentials,refresh_token', '--redirect-uri', 'https://sync.example.gov/cb', '--scope', 'directory:read', '--json');
    expect(created.exitCode).toBe(0);
    const client = created.json();
    expect(client).toMatchObject({ client_name: 'Directory sync', grant_types: ['client_credentials', 'refresh_token'], redirect_uris: ['https://sync.example.gov/cb'], token_endpoint_auth_method: 'client_secret_basic', scope: 'directory:read', client_secret_expires_at: 0 });
    expect(Buffer.from(client.client_secret, 'base64url').length).toBeGreaterThanOrEqual(32);

    const inspect = await openRuntime(testConfig({ ...env }), { migrate: false });
    try {
      const row = await inspect.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
      expect(row.client_secret_hash).toBe(keyedHash(inspect.tokenHashKey, client.client_secret));
      expect(JSON.stringify(row)).not.toContain(client.client_secret);
    } finally {
      await inspect.close();
    }

    const listed = (await cli('client', 'list', '--json')).json();
    expect(listed.clients.find((c: { client_id: string }) => c.client_id === client.client_id)).not.toHaveProperty('client_secret');
    expect((await cli('client', 'list')).stdout).toContain(`${client.client_id}  Directory sync`);

    const rotated = (await cli('client', 'rotate-secret', '--client-id', client.client_id, '--json')).json();
    expect(rotated.client_secret).not.toBe(client.client_secret);

    expect((await cli('client', 'delete', '--client-id', client.client_id, '--json')).json()).toEqual({ client_id: client.client_id, deleted: true });
    expect((await cli('client', 'delete', '--client-id', client.client_id, '--json')).json()).toMatchObject({ error: 'client_not_found' });
  });

  it('turns DPoP nonces on and off (--dpop-nonce) and sets the audiences a resource server may introspect (--introspection-audiences)', async () => {
    const created = (await cli('client', 'create', '--name', 'Payroll API', '--grant-types', 'client_credentials', '--scope', 'api', '--dpop-nonce', '--introspection-audiences', 'https://payroll-api.example.gov,https://hr-api.example.gov', '--json')).json();
    expect(created).toMatchObject({ require_dpop_nonce: true, introspection_audiences: ['https://payroll-api.example.gov', 'https://hr-api.example.gov'] });
    const updated = (await cli('client', 'update', '--client-id', created.client_id, '--dpop-nonce', 'no', '--introspection-audiences', 'none', '--json')).json();
    expect(updated).toMatchObject({ require_dpop_nonce: false, introspection_audiences: [] });
    const refused = await cli('client', 'update', '--client-id', created.client_id, '--introspection-audiences', 'not a uri', '--json');
    expect(refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('refuses bad metadata with exit 1 and the RFC 7591 error code', async () => {
    const refused = await cli('client', 'create', '--name', 'Old app', '--grant-types', 'implicit', '--json');
    expect(refused.exitCode).toBe(1);
    expect(refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
    expect((await cli('client', 'create', '--json')).exitCode).toBe(2);
  });

  it('registers a tls_client_auth client by the subject its certificate carries, with certificate-bound tokens (RFC 8705)', async () => {
    const created = await cli('client', 'create', '--name', 'Payroll', '--grant-types', 'client_credentials', '--scope', 'payroll.read', '--auth-method', 'tls_client_auth', '--tls-client-auth-subject', 'dn:CN=payroll.example.gov,O=Example,C=PL', '--certificate-bound', '--json');
    expect(created.exitCode).toBe(0);
    expect(created.json()).toMatchObject({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=payroll.example.gov,O=Example,C=PL', tls_client_certificate_bound_access_tokens: true });
    expect(created.json()).not.toHaveProperty('client_secret');
    expect((await cli('client', 'list')).stdout).toContain('TLS client certificate subject dn: CN=payroll.example.gov,O=Example,C=PL');
    const byIp = (await cli('client', 'create', '--name', 'Payroll 2', '--grant-types', 'client_credentials', '--scope', 'payroll.read', '--auth-method', 'tls_client_auth', '--tls-client-auth-subject', 'ip:2001:db8::1', '--json')).json();
    expect(byIp.tls_client_auth_san_ip).toBe('2001:db8::1');
    const updated = (await cli('client', 'update', '--client-id', byIp.client_id, '--tls-client-auth-subject', 'dns:payroll.example.gov', '--certificate-bound', 'yes', '--json')).json();
    expect(updated).toMatchObject({ tls_client_auth_san_dns: 'payroll.example.gov', tls_client_certificate_bound_access_tokens: true });
    expect(updated).not.toHaveProperty('tls_client_auth_san_ip');
    expect((await cli('client', 'create', '--name', 'Payroll 3', '--auth-method', 'tls_client_auth', '--tls-client-auth-subject', 'cn=payroll', '--json')).exitCode).toBe(2);
    expect((await cli('client', 'create', '--name', 'Payroll 4', '--grant-types', 'client_credentials', '--scope', 'payroll.read', '--auth-method', 'tls_client_auth', '--json')).json()).toMatchObject({ error: 'invalid_client_metadata' });
  });
});

describe('client secrets at the token endpoint', () => {
  it('accepts a rotated secret at once and the old one for at most WARTA_CLIENT_CACHE_SECONDS', async () => {
    expect(runtime.config.oidc.clientCacheSeconds).toBe(1);
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Backend', grant_types: ['client_credentials'], scope: 'x' }, { authority: organisationAdmin(admin.organisation_id) });
    expect((await tokenRequest(client.client_id, client.client_secret!)).status).toBe(200);
    const rotated = (await (await request(`/api/admin/clients/${client.client_id}/rotate-secret`, { method: 'POST', cookie })).json()) as { client_secret: string };
    expect((await tokenRequest(client.client_id, rotated.client_secret)).status).toBe(200);
    runtime.clock.advance(1);
    expect((await tokenRequest(client.client_id, client.client_secret!)).status).toBe(401);
    expect((await tokenRequest(client.client_id, rotated.client_secret)).status).toBe(200);
  });

  it('sends one query for the requests in flight when the remembered record expires, never for a fresh read', async () => {
    let queries = 0;
    const counting: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
    const directory = new ClientDirectory({ db: runtime.db.withPlugin(counting), clock: runtime.clock, ttlSeconds: 1 });
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Busy', grant_types: ['client_credentials'], scope: 'x' }, { authority: OPERATOR });
    const found = await Promise.all(Array.from({ length: 8 }, () => directory.find(client.client_id)));
    expect(found.every((c) => c?.client_id === client.client_id)).toBe(true);
    expect(queries).toBe(1);
    runtime.clock.advance(1);
    await Promise.all(Array.from({ length: 8 }, () => directory.find(client.client_id)));
    expect(queries).toBe(2);
    // A secret that just failed to match re-reads the record: it does not take one read before the rotation.
    runtime.clock.advance(1);
    await Promise.all([directory.find(client.client_id), directory.find(client.client_id, { fresh: true })]);
    expect(queries).toBe(4);
    // Unknown ids share a read too, and are still never remembered.
    queries = 0;
    expect(await Promise.all([directory.find('no-such-client'), directory.find('no-such-client')])).toEqual([undefined, undefined]);
    expect(await directory.find('no-such-client')).toBeUndefined();
    expect(queries).toBe(2);
  });

  it('forgets a deleted client within WARTA_CLIENT_CACHE_SECONDS', async () => {
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Gone', grant_types: ['client_credentials'], scope: 'x' }, { authority: OPERATOR });
    expect((await tokenRequest(client.client_id, client.client_secret!)).status).toBe(200);
    await deleteClient(runtime, { actor: 'test' }, client.client_id, OPERATOR);
    runtime.clock.advance(1);
    expect((await tokenRequest(client.client_id, client.client_secret!)).status).toBe(401);
  });
});

describe('/api/admin/clients', () => {
  it('lets an admin register, read, list and delete clients, audited', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = await request('/api/admin/clients', { method: 'POST', cookie, json: { client_name: 'Wiki', redirect_uris: ['https://wiki.example.gov/cb'], grant_types: ['authorization_code', 'refresh_token'] } });
    expect(created.status).toBe(201);
    const client = (await created.json()) as { client_id: string; client_secret: string };
    expect(Buffer.from(client.client_secret, 'base64url').length).toBeGreaterThanOrEqual(32);

    const fetched = await request(`/api/admin/clients/${client.client_id}`, { cookie });
    expect(await fetched.json()).not.toHaveProperty('client_secret');
    const list = (await (await request('/api/admin/clients', { cookie })).json()) as { clients: { client_id: string }[] };
    expect(list.clients.map((c) => c.client_id)).toContain(client.client_id);
    expect((await request(`/api/admin/clients/${client.client_id}`, { method: 'DELETE', cookie })).status).toBe(204);
    expect((await request(`/api/admin/clients/${client.client_id}`, { cookie })).status).toBe(404);

    const actions = await runtime.db.selectFrom('audit_log').select('action').where('subject', '=', `client:${client.client_id}`).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['client.created', 'client.deleted']);
  });

  it('lets an admin require DPoP nonces of a client (require_dpop_nonce), but not set introspection_audiences (the operator\'s)', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = await request('/api/admin/clients', { method: 'POST', cookie, json: { client_name: 'Chat', redirect_uris: ['https://chat.example.gov/cb'], dpop_bound_access_tokens: true, require_dpop_nonce: true } });
    expect(created.status).toBe(201);
    const client = (await created.json()) as { client_id: string; require_dpop_nonce: boolean };
    expect(client.require_dpop_nonce).toBe(true);
    const turnedOff = await request(`/api/admin/clients/${client.client_id}`, { method: 'PATCH', cookie, json: { require_dpop_nonce: false } });
    expect(((await turnedOff.json()) as { require_dpop_nonce: boolean }).require_dpop_nonce).toBe(false);
    const refused = await request(`/api/admin/clients/${client.client_id}`, { method: 'PATCH', cookie, json: { introspection_audiences: ['https://payroll-api.example.gov'] } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('operator_only_setting');
  });

  it('refuses members and anonymous callers, and bad metadata with 400', async () => {
    const member = await createTestUser(runtime);
    const body = { client_name: 'X', redirect_uris: ['https://x.example.gov/cb'] };
    expect((await request('/api/admin/clients', { method: 'POST', cookie: await sessionCookie(runtime, member), json: body })).status).toBe(403);
    expect((await request('/api/admin/clients', { method: 'POST', json: body })).status).toBe(401);
    expect((await request('/api/admin/clients', { cookie: await sessionCookie(runtime, member) })).status).toBe(403);
    const admin = await createTestUser(runtime, { role: 'admin' });
    const bad = await request('/api/admin/clients', { method: 'POST', cookie: await sessionCookie(runtime, admin), json: { ...body, grant_types: ['password'] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_client_metadata');
  });
});
