import { createLocalJWKSet, jwtVerify } from 'jose';
import type { KyselyPlugin } from 'kysely';
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

  it('reloads once for all the requests that find the cache expired together', async () => {
    let queries = 0;
    const counting: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
    const keys = new SigningKeys({ db: runtime.db.withPlugin(counting), box: runtime.box, clock: runtime.clock }, { cacheSeconds: 30, maxTokenLifetimeSeconds: 3600 });
    const first = await Promise.all([keys.jwks(), keys.jwks(), keys.activeKey(), keys.jwks()]);
    expect(queries).toBe(1);
    expect(first[1]).toBe(first[0]);
    runtime.clock.advance(31);
    await Promise.all([keys.jwks(), keys.activeKey(), keys.jwks()]);
    expect(queries).toBe(2);
    // A reload begun before invalidate() (before a rotation committed, perhaps) is not joined.
    runtime.clock.advance(31);
    const before = keys.jwks();
    keys.invalidate();
    await Promise.all([before, keys.jwks()]);
    expect(queries).toBe(4);
  });
});

describe('the JWKS document', () => {
  const etagOf = async (headers: Record<string, string> = {}) => request('/.well-known/jwks.json', { headers });

  it('carries a strong ETag, the same from every instance, and answers 304 to a client that holds it', async () => {
    const first = await etagOf();
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{43}"$/);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await etagOf()).headers.get('etag')).toBe(etag);
    const otherInstance = testClient({ ...runtime, signingKeys: new SigningKeys({ db: runtime.db, box: runtime.box, clock: runtime.clock }, { cacheSeconds: 30, maxTokenLifetimeSeconds: 3600 }) });
    expect((await otherInstance.request('/.well-known/jwks.json')).headers.get('etag')).toBe(etag);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const revalidated = await etagOf({ 'if-none-match': ifNoneMatch });
      expect(revalidated.status).toBe(304);
      expect(await revalidated.text()).toBe('');
      expect(revalidated.headers.get('etag')).toBe(etag);
      expect(revalidated.headers.get('cache-control')).toMatch(/^public, max-age=/);
    }
    const other = await etagOf({ 'if-none-match': '"not-this-one"' });
    expect(other.status).toBe(200);
    expect(((await other.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it('changes its ETag when the keys change, so a client holding the old one gets the new keys', async () => {
    const old = (await etagOf()).headers.get('etag')!;
    const rotation = await rotateSigningKey(runtime, { publishAheadSeconds: 30, maxTokenLifetimeSeconds: 3600 });
    runtime.signingKeys.invalidate();
    const after = await etagOf({ 'if-none-match': old });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(old);
    expect(((await after.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toContain(rotation.kid);
  });
});

