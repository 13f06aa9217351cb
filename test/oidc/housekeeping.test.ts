import { describe, expect, it } from 'vitest';
import { saveAuthorizationRequest } from '../../src/oidc/authorize/store.js';
import { purgeExpiredOidcState } from '../../src/oidc/housekeeping.js';
import { markJtiUsed } from '../../src/oidc/replay.js';
import { authorizeWithSession, basicAuth, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;

describe('purgeExpiredOidcState', () => {
  it('forgets expired jtis and requests, but keeps rotated refresh tokens until they expire so reuse is still caught', async () => {
    const client = await registerWebClient(runtime);
    const { cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client);
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = (await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client))).body;
    const first = tokens.refresh_token as string;
    expect((await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: first }, basicAuth(client))).status).toBe(200);

    expect(await markJtiUsed(runtime, 'test:a', new Date(runtime.clock.now().getTime() + 60_000))).toBe(true);
    await saveAuthorizationRequest(runtime.db, runtime.clock, { kind: 'pushed', params: { ...(await pkceRequest(client)).params } as never, ttlSeconds: 60 });
    runtime.clock.advance(3600);
    await purgeExpiredOidcState(runtime);

    expect(await runtime.db.selectFrom('oauth_seen_jtis').select('key').where('key', '=', 'test:a').execute()).toEqual([]);
    expect(await runtime.db.selectFrom('oauth_authorization_requests').select('id_hash').execute()).toEqual([]);
    // The rotated token is still remembered: presenting it is reuse, and revokes the family.
    const reuse = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: first }, basicAuth(client));
    expect(reuse.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
    runtime.clock.set(new Date());
  });
});
