/** The hand-built ES256 JWS and the access/ID token checks on top of it. */
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { CompactJws } from '../../src/oidc/jws.js';
import { Tokens } from '../../src/oidc/tokens.js';
import { createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();
const jws = new CompactJws(runtime.signingKeys);
const tokens = new Tokens(runtime);
const client = { client_id: 'portal', access_token_audience: null };

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('CompactJws', () => {
  it('signs tokens jose verifies against the published JWKS, and verifies tokens jose signed with the same key', async () => {
    const token = await jws.sign({ iss: runtime.config.issuer, sub: 'u1' }, 'JWT');
    const keys = createLocalJWKSet((await runtime.signingKeys.jwks()) as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(token, keys, { algorithms: ['ES256'] });
    expect(payload.sub).toBe('u1');
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: (await runtime.signingKeys.activeKey()).kid });
    const byJose = await runtime.signingKeys.sign({ sub: 'u2' }, { typ: 'at+jwt' });
    expect((await jws.verify(byJose))?.payload.sub).toBe('u2');
  });

  it('refuses a changed payload, alg none, an unknown kid, crit, and a foreign key', async () => {
    const [header, , signature] = (await jws.sign({ sub: 'u1' }, 'JWT')).split('.');
    expect(await jws.verify(`${header}.${part({ sub: 'admin' })}.${signature}`)).toBeUndefined();
    expect(await jws.verify(`${part({ alg: 'none' })}.${part({ sub: 'u1' })}.${signature}`)).toBeUndefined();
    const kid = (await runtime.signingKeys.activeKey()).kid;
    expect(await jws.verify(`${part({ alg: 'ES256', kid: 'other' })}.${part({ sub: 'u1' })}.${signature}`)).toBeUndefined();
    expect(await jws.verify(`${part({ alg: 'ES256', kid, crit: ['exp'] })}.${part({ sub: 'u1' })}.${signature}`)).toBeUndefined();
    expect(await jws.verify('a.b')).toBeUndefined();
    const { privateKey } = await import('jose').then((jose) => jose.generateKeyPair('ES256'));
    const foreign = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
    expect(await jws.verify(foreign)).toBeUndefined();
  });
});

describe('Tokens.accessToken', () => {
  it('accepts its own access tokens until they expire', async () => {
    const { accessToken } = await tokens.issueAccessToken({ client, subject: 'u1', scopes: ['openid'] });
    expect(await tokens.accessToken(accessToken)).toMatchObject({ sub: 'u1', client_id: 'portal', aud: 'portal', scope: 'openid' });
    runtime.clock.advance(runtime.config.oidc.accessTokenTtlSeconds);
    expect(await tokens.accessToken(accessToken)).toBeUndefined();
    runtime.clock.set(new Date());
  });

  it('refuses an ID token presented as an access token (typ), and another issuer’s token', async () => {
    const grant = { auth_time: runtime.clock.now(), acr: 'x', amr: ['hwk'], session_id: null };
    const idToken = await tokens.issueIdToken({ client, grant, claims: { sub: 'u1', client_id: 'portal', jti: 'j' }, accessToken: 'at' });
    expect(await tokens.accessToken(idToken)).toBeUndefined();
    const now = Math.floor(runtime.clock.now().getTime() / 1000);
    const foreignIssuer = await runtime.signingKeys.sign({ iss: 'https://evil.example', sub: 'u1', client_id: 'portal', jti: 'j', iat: now, exp: now + 60 }, { typ: 'at+jwt' });
    expect(await tokens.accessToken(foreignIssuer)).toBeUndefined();
  });
});
