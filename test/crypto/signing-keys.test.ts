import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ensureSigningKey, rotateSigningKey, SigningKeys } from '../../src/crypto/signing-keys.js';
import { createTestRuntime, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime({ env: { WARTA_KEY_CACHE_SECONDS: '0', WARTA_ID_TOKEN_TTL_SECONDS: '3600' } });
const { request } = testClient(runtime);

async function publishedJwks() {
  const res = await request('/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: Record<string, unknown>[] };
}

const verifyWith = async (token: string) => jwtVerify(token, createLocalJWKSet(await publishedJwks() as never), { issuer: 'warta-test' });

describe('signing keys', () => {
  it('publishes one ES256 public key at first start, without private parts', async () => {
    const { keys } = await publishedJwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('creates the first key once even when instances race', async () => {
    expect(await Promise.all([ensureSigningKey(runtime), ensureSigningKey(runtime)])).toEqual([false, false]);
    expect(await runtime.db.selectFrom('signing_keys').select('kid').execute()).toHaveLength(1);
  });

  it('rotates: the new key is published before it signs, and the old one verifies until its tokens expired', async () => {
    const oldToken = await runtime.signingKeys.sign({ iss: 'warta-test', sub: 'u1' }, { typ: 'JWT' });
    const oldKid = (await runtime.signingKeys.activeKey()).kid;

    const rotation = await rotateSigningKey(runtime, { publishAheadSeconds: 30, maxTokenLifetimeSeconds: 3600 });
    runtime.signingKeys.invalidate();
    expect((await publishedJwks()).keys.map((k) => k.kid)).toEqual([rotation.kid, oldKid]);
    // still signing with the old key during the publish-ahead window
    expect((await runtime.signingKeys.activeKey()).kid).toBe(oldKid);

    runtime.clock.advance(31);
    runtime.signingKeys.invalidate();
    const newToken = await runtime.signingKeys.sign({ iss: 'warta-test', sub: 'u1' }, { typ: 'JWT' });
    expect((await verifyWith(newToken)).protectedHeader.kid).toBe(rotation.kid);
    expect((await verifyWith(oldToken)).protectedHeader.kid).toBe(oldKid);

    runtime.clock.advance(3600);
    runtime.signingKeys.invalidate();
    expect((await publishedJwks()).keys.map((k) => k.kid)).toEqual([rotation.kid]);
    await expect(verifyWith(oldToken)).rejects.toThrow();
  });

  it('shares keys between instances through the database', async () => {
    const other = new SigningKeys({ db: runtime.db, box: runtime.box, clock: runtime.clock }, { cacheSeconds: 0, maxTokenLifetimeSeconds: 3600 });
    expect(await other.jwks()).toEqual(await runtime.signingKeys.jwks());
    expect((await other.activeKey()).kid).toBe((await runtime.signingKeys.activeKey()).kid);
  });
});
