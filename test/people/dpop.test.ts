/**
 * A DPoP-bound access token and refresh token (RFC 9449) end with the disable
 * too: the key does not keep them alive.
 */
import * as oidc from 'openid-client';
import { expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { disablePerson } from '../../src/people/disable.js';
import { authorizeWithSession, discover, pkceRequest, signedInUser, startOidcServer } from '../oidc/support.js';

const server = await startOidcServer();
const { runtime } = server;

it("ends a DPoP-bound session's access and refresh tokens", async () => {
  // openid-client stamps DPoP proofs with the real time; the test clock must not lag behind it.
  runtime.clock.set(new Date());
  const client = await registerClient(runtime, { actor: 'test' }, {
    client_name: 'Messenger (iOS)',
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['http://127.0.0.1/callback'],
    first_party: true,
    dpop_bound_access_tokens: true,
  }, { authority: OPERATOR });
  const config = await discover(server, client);
  const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  const { user, cookie } = await signedInUser(runtime);
  const request = await pkceRequest(client, { redirect_uri: 'http://127.0.0.1:50123/callback' });
  const callback = await authorizeWithSession(server, request.params, cookie);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }, undefined, { DPoP: dpop });
  expect(tokens.token_type).toBe('dpop');
  expect((await oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP: dpop })).sub).toBe(user.id);

  await disablePerson(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, personId: user.id, reason: 'device reported stolen' });

  await expect(oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP: dpop })).rejects.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
  await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop })).rejects.toMatchObject({ error: 'invalid_grant' });
});
