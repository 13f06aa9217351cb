import { randomUUID } from 'node:crypto';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import {
  CLIENT_ASSERTION_CLOCK_SKEW_SECONDS,
  MAX_CLIENT_ASSERTION_LIFETIME_SECONDS,
  verifyClientAssertion,
} from '../../src/oidc/client-assertion.js';
import type { VerifyClientAssertionOptions } from '../../src/oidc/client-assertion.js';
import { rejectionFrom } from './expect-error.js';

const CLIENT_ID = 'https://client.example.org';
const ISSUER = 'https://warta.example.pl';
const TOKEN_ENDPOINT = 'https://warta.example.pl/token';
const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;

interface ClientKey {
  alg: string;
  kid: string | undefined;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function clientKey(alg: string, kid?: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, kid, privateKey, jwk: kid === undefined ? jwk : { ...jwk, kid } };
}

interface AssertionShape {
  claims?: Record<string, unknown>;
  omit?: string[];
  header?: Record<string, unknown>;
}

async function assertion(key: ClientKey, { claims = {}, omit = [], header = {} }: AssertionShape = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: ISSUER,
    jti: randomUUID(),
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 60,
    ...claims,
  };
  for (const name of omit) delete payload[name];
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }), ...header })
    .sign(key.privateKey);
}

function jtiStore() {
  const seen = new Set<string>();
  return vi.fn(async (jti: string, _expiresAt: Date) => {
    if (seen.has(jti)) return false;
    seen.add(jti);
    return true;
  });
}

let es256: ClientKey;
let rs256: ClientKey;
let ed25519: ClientKey;
let unregistered: ClientKey;
let jwks: JSONWebKeySet;

beforeAll(async () => {
  es256 = await clientKey('ES256', 'ec-1');
  rs256 = await clientKey('RS256', 'rsa-1');
  ed25519 = await clientKey('EdDSA', 'ed-1');
  unregistered = await clientKey('ES256', 'ec-1');
  jwks = { keys: [es256.jwk, rs256.jwk, ed25519.jwk] };
});

function options(assertionValue: string, overrides: Partial<VerifyClientAssertionOptions> = {}): VerifyClientAssertionOptions {
  return {
    assertion: assertionValue,
    clientId: CLIENT_ID,
    clientJwks: jwks,
    expectedAudiences: [ISSUER, TOKEN_ENDPOINT],
    now: NOW,
    markJtiUsed: jtiStore(),
    ...overrides,
  };
}

async function invalidClient(promise: Promise<unknown>, description?: RegExp) {
  const error = await rejectionFrom(promise);
  expect(error.status).toBe(401);
  expect(error.code).toBe('invalid_client');
  if (description) expect(error.description).toMatch(description);
  return error;
}

describe('verifyClientAssertion (private_key_jwt: RFC 7523 §3, OIDC Core §9)', () => {
  describe('valid assertions', () => {
    it.each([
      ['ES256', () => es256],
      ['RS256', () => rs256],
      ['EdDSA', () => ed25519],
    ])('accepts an assertion signed with the registered %s key', async (_, key) => {
      const value = await assertion(key(), { claims: { jti: 'jti-ok' } });
      await expect(verifyClientAssertion(options(value))).resolves.toEqual({
        jti: 'jti-ok',
        expiresAt: new Date((NOW_SECONDS + 60 + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) * 1000),
      });
    });

    it.each([
      ['the issuer identifier', ISSUER],
      ['the token endpoint URL', TOKEN_ENDPOINT],
      ['both, as an array', [ISSUER, TOKEN_ENDPOINT]],
      ['the issuer alone, as an array', [ISSUER]],
    ])('accepts aud naming %s', async (_, aud) => {
      await expect(verifyClientAssertion(options(await assertion(es256, { claims: { aud } })))).resolves.toBeDefined();
    });

    it('finds the key without a kid when only one registered key fits the alg', async () => {
      const noKid = await assertion({ ...rs256, kid: undefined });
      await expect(verifyClientAssertion(options(noKid))).resolves.toBeDefined();
    });

    it('tries each fitting key when there is no kid and several keys fit the alg', async () => {
      const first = await clientKey('ES256');
      const second = await clientKey('ES256');
      const signedBySecond = await assertion(second);
      const twoKeys = { keys: [first.jwk, second.jwk] };
      await expect(verifyClientAssertion(options(signedBySecond, { clientJwks: twoKeys }))).resolves.toBeDefined();
      const signedByNeither = await assertion(await clientKey('ES256'));
      await invalidClient(verifyClientAssertion(options(signedByNeither, { clientJwks: twoKeys })), /any of the client keys/);
    });

    it.each(['JWT', 'client-authentication+jwt', 'application/client-authentication+jwt'])('accepts typ %o', async (typ) => {
      await expect(verifyClientAssertion(options(await assertion(es256, { header: { typ } })))).resolves.toBeDefined();
    });

    it('accepts an assertion without iat or nbf, which are optional', async () => {
      await expect(verifyClientAssertion(options(await assertion(es256, { omit: ['iat'] })))).resolves.toBeDefined();
    });
  });

  describe('format and algorithm', () => {
    it.each([
      ['not a JWT', 'client-secret'],
      ['an unsigned JWT', 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.'],
      ['an empty value', ''],
    ])('rejects %s', async (_, value) => {
      await invalidClient(verifyClientAssertion(options(value)), /compact serialization/);
    });

    it('rejects an oversized assertion before parsing it', async () => {
      const huge = await assertion(es256, { claims: { padding: 'x'.repeat(9000) } });
      await invalidClient(verifyClientAssertion(options(huge)), /compact serialization/);
    });

    it('rejects alg none even with something in the signature position', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER })).toString('base64url');
      await invalidClient(verifyClientAssertion(options(`${header}.${payload}.AAAA`)), /asymmetric algorithm/);
    });

    it('rejects HS256 even when the client JWKS holds the matching secret (client_secret_jwt is not offered)', async () => {
      const secret = new Uint8Array(32).fill(9);
      const hs256 = await new SignJWT({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, jti: randomUUID(), exp: NOW_SECONDS + 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(secret);
      const withSecret = { keys: [...jwks.keys, { kty: 'oct', k: Buffer.from(secret).toString('base64url') }] };
      await invalidClient(verifyClientAssertion(options(hs256, { clientJwks: withSecret })), /asymmetric algorithm/);
    });

    it.each(['dpop+jwt', 'at+jwt', 'secevent+jwt'])('rejects a JWT explicitly typed as something else (%s)', async (typ) => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { header: { typ } }))), /typ/);
    });
  });

  describe('signature', () => {
    it('rejects an assertion signed by a key the client did not register, even with a registered kid', async () => {
      await invalidClient(verifyClientAssertion(options(await assertion(unregistered))), /does not verify/);
    });

    it('rejects an assertion whose kid names no registered key', async () => {
      const unknownKid = await assertion({ ...es256, kid: 'ec-2' });
      await invalidClient(verifyClientAssertion(options(unknownKid)), /not signed with a key registered/);
    });

    it('rejects an assertion whose claims were changed after signing', async () => {
      const [header, , signature] = (await assertion(es256)).split('.');
      const [, otherClaims] = (await assertion(es256, { claims: { sub: 'someone-else' } })).split('.');
      await invalidClient(verifyClientAssertion(options(`${header}.${otherClaims}.${signature}`)), /does not verify/);
    });

    it('rejects when the client has no usable JWKS', async () => {
      await invalidClient(
        verifyClientAssertion(options(await assertion(es256), { clientJwks: { keys: 'none' } as unknown as JSONWebKeySet })),
        /no usable JWKS/,
      );
    });

    it('does not record the jti of an assertion whose signature fails', async () => {
      const markJtiUsed = jtiStore();
      await invalidClient(verifyClientAssertion(options(await assertion(unregistered), { markJtiUsed })));
      expect(markJtiUsed).not.toHaveBeenCalled();
    });
  });

  describe('iss and sub are the client_id', () => {
    it.each(['iss', 'sub'])('rejects a %s naming another client', async (claim) => {
      const value = await assertion(es256, { claims: { [claim]: 'another-client' } });
      await invalidClient(verifyClientAssertion(options(value)), new RegExp(`${claim} must be the client_id`));
    });

    it.each(['iss', 'sub'])('rejects an assertion without %s', async (claim) => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { omit: [claim] }))), new RegExp(claim));
    });
  });

  describe('aud names this server and nothing else', () => {
    it.each([
      ['missing', undefined],
      ['another server', 'https://other-as.example.com'],
      ['our token endpoint with a trailing slash', `${TOKEN_ENDPOINT}/`],
      ['an empty array', []],
      ['a number', 42],
    ])('rejects aud: %s', async (_, aud) => {
      const value = await assertion(es256, aud === undefined ? { omit: ['aud'] } : { claims: { aud } });
      await invalidClient(verifyClientAssertion(options(value)), /aud/);
    });

    it('rejects an aud array that also names another server (audience injection)', async () => {
      const value = await assertion(es256, { claims: { aud: [ISSUER, 'https://attacker-as.example'] } });
      await invalidClient(verifyClientAssertion(options(value)), /nothing else/);
    });

    it('rejects the token endpoint when the caller expects only the issuer (draft-ietf-oauth-rfc7523bis)', async () => {
      const value = await assertion(es256, { claims: { aud: TOKEN_ENDPOINT } });
      await invalidClient(verifyClientAssertion(options(value, { expectedAudiences: [ISSUER] })), /aud/);
    });
  });

  describe('exp, nbf and iat', () => {
    it('rejects an assertion without exp', async () => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { omit: ['exp'] }))), /numeric exp/);
    });

    it('rejects a non-numeric exp', async () => {
      const value = await assertion(es256, { claims: { exp: String(NOW_SECONDS + 60) } });
      await invalidClient(verifyClientAssertion(options(value)), /numeric exp/);
    });

    it('rejects an expired assertion', async () => {
      const value = await assertion(es256, { claims: { exp: NOW_SECONDS - CLIENT_ASSERTION_CLOCK_SKEW_SECONDS } });
      await invalidClient(verifyClientAssertion(options(value)), /expired/);
    });

    it('tolerates an exp just behind our clock (skew)', async () => {
      const value = await assertion(es256, { claims: { exp: NOW_SECONDS - CLIENT_ASSERTION_CLOCK_SKEW_SECONDS + 1 } });
      await expect(verifyClientAssertion(options(value))).resolves.toBeDefined();
    });

    it(`accepts an exp ${MAX_CLIENT_ASSERTION_LIFETIME_SECONDS} seconds ahead`, async () => {
      const value = await assertion(es256, { claims: { exp: NOW_SECONDS + MAX_CLIENT_ASSERTION_LIFETIME_SECONDS } });
      await expect(verifyClientAssertion(options(value))).resolves.toBeDefined();
    });

    it('rejects an assertion that would stay valid for longer than five minutes', async () => {
      const exp = NOW_SECONDS + MAX_CLIENT_ASSERTION_LIFETIME_SECONDS + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS + 1;
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { claims: { exp } }))), /at most 300 seconds/);
      await invalidClient(
        verifyClientAssertion(options(await assertion(es256, { claims: { exp: NOW_SECONDS + 365 * 86400 } }))),
        /at most 300 seconds/,
      );
    });

    it('rejects an assertion that is not valid yet (nbf)', async () => {
      const value = await assertion(es256, { claims: { nbf: NOW_SECONDS + 60 } });
      await invalidClient(verifyClientAssertion(options(value)), /nbf/);
      await expect(verifyClientAssertion(options(await assertion(es256, { claims: { nbf: NOW_SECONDS } })))).resolves.toBeDefined();
    });

    it('rejects an assertion issued in the future (iat)', async () => {
      const value = await assertion(es256, { claims: { iat: NOW_SECONDS + 60 } });
      await invalidClient(verifyClientAssertion(options(value)), /iat/);
    });

    it('rejects a non-numeric iat', async () => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { claims: { iat: 'now' } }))), /iat/);
    });
  });

  describe('jti single use (OIDC Core §9)', () => {
    it('rejects an assertion without jti', async () => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { omit: ['jti'] }))), /must contain a jti/);
    });

    it('rejects an unreasonably long jti', async () => {
      await invalidClient(verifyClientAssertion(options(await assertion(es256, { claims: { jti: 'j'.repeat(257) } }))), /at most 256/);
    });

    it('records the jti until the assertion would expire anyway', async () => {
      const markJtiUsed = jtiStore();
      await verifyClientAssertion(options(await assertion(es256, { claims: { jti: 'one-time', exp: NOW_SECONDS + 120 } }), { markJtiUsed }));
      expect(markJtiUsed).toHaveBeenCalledExactlyOnceWith(
        'one-time',
        new Date((NOW_SECONDS + 120 + CLIENT_ASSERTION_CLOCK_SKEW_SECONDS) * 1000),
      );
    });

    it('rejects a replayed assertion', async () => {
      const markJtiUsed = jtiStore();
      const replayed = await assertion(es256);
      await verifyClientAssertion(options(replayed, { markJtiUsed }));
      await invalidClient(verifyClientAssertion(options(replayed, { markJtiUsed })), /already been used/);
    });
  });
});
