/**
 * Signing keys in an HSM (SoftHSM2 here) through the PKCS#11 provider: the keys
 * are made in the token and never leave it, the database holds only public
 * halves and token object ids, and tokens issued over HTTP verify against the
 * JWKS through planned and emergency rotations.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, calculateJwkThumbprint, jwtVerify, type JSONWebKeySet } from 'jose';
import * as pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { rotateSigningKeyCommand } from '../../src/cli/commands/keys.js';
import { ConfigError } from '../../src/config.js';
import { EnvelopeKeyProvider } from '../../src/crypto/envelope-key-provider.js';
import { json } from '../../src/db/schema.js';
import type { Runtime } from '../../src/runtime.js';
import { registerServiceClient, signInTo } from '../incident/support.js';
import { basicAuth, postForm, registerWebClient, startOidcServer } from '../oidc/support.js';
import { initSoftHsmToken, SOFTHSM_MODULE } from '../support/softhsm.js';
import { createTestUser, testConfig } from '../support/runtime.js';

const hsm = initSoftHsmToken();
const server = await startOidcServer({ ...hsm.env, WARTA_KEY_CACHE_SECONDS: '0' });
const { runtime } = server;
const cli = { runtime: async () => runtime as Runtime, write: () => {} };
const backend = await registerServiceClient(runtime);
const portal = await registerWebClient(runtime);

const jwks = async () => (await (await fetch(server.url('/.well-known/jwks.json'))).json()) as JSONWebKeySet;
const verify = async (token: string) => jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: server.issuer });
const clientCredentialsToken = async () => {
  const reply = await postForm(server.url('/token'), { grant_type: 'client_credentials' }, basicAuth(backend));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.access_token as string;
};
const keyRows = () => runtime.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();

/** A session of the test's own on the token, to look at what Warta put there. */
function inspectToken() {
  const token = new pkcs11js.PKCS11();
  token.load(SOFTHSM_MODULE);
  try {
    token.C_Initialize();
  } catch (error) {
    if ((error as Error).message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw error;
  }
  const slot = token.C_GetSlotList(true).find((s) => token.C_GetTokenInfo(s).label.trim() === hsm.label)!;
  const session = token.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  const find = (id: string, objectClass: number) => {
    token.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: objectClass }, { type: pkcs11js.CKA_ID, value: Buffer.from(id, 'hex') }]);
    const found = token.C_FindObjects(session, 10);
    token.C_FindObjectsFinal(session);
    return found;
  };
  return { token, session, find, close: () => token.C_CloseSession(session) };
}

describe('signing keys in a PKCS#11 token', () => {
  it('makes the first signing key in the token: the database holds its public half and object id, no private key material', async () => {
    const rows = await keyRows();
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ provider: 'pkcs11', private_jwk_enc: null, key_reference: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(row!.public_jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: row!.kid });
    for (const stored of rows) expect(Object.values(stored).map((v) => JSON.stringify(v)).join()).not.toMatch(/"d"/);
    const [created] = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'signing_key.created').execute();
    expect(created?.details).toEqual({ provider: 'pkcs11' });

    const inspect = inspectToken();
    try {
      expect(inspect.find(row!.key_reference!, pkcs11js.CKO_PRIVATE_KEY)).toHaveLength(1);
    } finally {
      inspect.close();
    }
  });

  it('keeps the private key sensitive and non-extractable: the token refuses to read out its value', async () => {
    const [row] = await keyRows();
    const inspect = inspectToken();
    try {
      inspect.token.C_Login(inspect.session, pkcs11js.CKU_USER, hsm.pin);
    } catch (error) {
      // Warta's session holds the login: PKCS#11 keeps one per process.
      expect((error as Error).message).toBe('CKR_USER_ALREADY_LOGGED_IN');
    }
    try {
      const [privateKey] = inspect.find(row!.key_reference!, pkcs11js.CKO_PRIVATE_KEY);
      const [extractable, sensitive] = inspect.token.C_GetAttributeValue(inspect.session, privateKey!, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SENSITIVE }]);
      expect([extractable!.value[0], sensitive!.value[0]]).toEqual([0, 1]);
      expect(() => inspect.token.C_GetAttributeValue(inspect.session, privateKey!, [{ type: pkcs11js.CKA_VALUE }])).toThrow('CKR_ATTRIBUTE_SENSITIVE');
    } finally {
      inspect.close();
    }
  });

  it('signs client_credentials access tokens and ID tokens, issued over HTTP, that verify against the JWKS', async () => {
    const kid = (await keyRows())[0]!.kid;
    const accessToken = await clientCredentialsToken();
    expect((await verify(accessToken)).protectedHeader).toMatchObject({ alg: 'ES256', kid, typ: 'at+jwt' });
    const signedIn = await signInTo(server, portal, await createTestUser(runtime));
    const idToken = await jwtVerify(signedIn.id_token, createLocalJWKSet(await jwks()), { issuer: server.issuer, audience: portal.client_id });
    expect(idToken.protectedHeader.kid).toBe(kid);
    // Warta reads its own tokens back (introspection) with the same key.
    const introspected = await postForm(server.url('/introspect'), { token: accessToken }, basicAuth(backend));
    expect(introspected.body.active).toBe(true);
  });

  it('rotates with `warta keys rotate`: the new key is made in the token, published ahead, then signs', async () => {
    const oldKid = (await runtime.signingKeys.activeKey()).kid;
    const oldToken = await clientCredentialsToken();
    const rotation = await rotateSigningKeyCommand.run({ 'publish-ahead-seconds': '60', reason: 'yearly rotation' }, cli);
    expect(rotation.emergency).toBe(false);
    const row = (await keyRows()).find((k) => k.kid === rotation.kid)!;
    expect(row).toMatchObject({ provider: 'pkcs11', private_jwk_enc: null });
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([rotation.kid, oldKid]));
    expect(decodeProtectedHeader(await clientCredentialsToken()).kid).toBe(oldKid);

    runtime.clock.advance(61);
    const newToken = await clientCredentialsToken();
    expect((await verify(newToken)).protectedHeader.kid).toBe(rotation.kid);
    expect((await verify(oldToken)).protectedHeader.kid).toBe(oldKid);
  });

  it('withdraws every key with `warta keys rotate --emergency`, and a new key from the token signs at once', async () => {
    const before = (await jwks()).keys.map((k) => k.kid);
    const rotation = await rotateSigningKeyCommand.run({ emergency: true, reason: 'the HSM operator PIN was disclosed' }, cli);
    expect(rotation.emergency && rotation.withdrawn).toEqual(expect.arrayContaining(before));
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([rotation.kid]);
    expect((await verify(await clientCredentialsToken())).protectedHeader.kid).toBe(rotation.kid);
    expect((await keyRows()).find((k) => k.kid === rotation.kid)).toMatchObject({ provider: 'pkcs11', private_jwk_enc: null });
  });

  it('publishes no key the token does not hold: a planted row with a public key of its own, or with a real object id under a forged kid', async () => {
    const [real] = (await keyRows()).slice(-1);
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const planted = await exportJWK(publicKey);
    const plantedKid = await calculateJwkThumbprint(planted);
    const now = runtime.clock.now();
    const row = { alg: 'ES256', provider: 'pkcs11' as const, private_jwk_enc: null, created_at: now, active_from: now, retire_at: new Date(now.getTime() + 3_600_000) };
    await runtime.db.insertInto('signing_keys').values({ ...row, kid: plantedKid, public_jwk: json({ ...planted, kid: plantedKid, alg: 'ES256', use: 'sig' }), key_reference: 'ab'.repeat(16) }).execute();
    const forgedKid = `${plantedKid}-x`;
    await runtime.db.insertInto('signing_keys').values({ ...row, kid: forgedKid, public_jwk: json({ ...planted, kid: forgedKid, alg: 'ES256', use: 'sig' }), key_reference: real!.key_reference }).execute();
    const published = (await jwks()).keys.map((k) => k.kid);
    expect(published).toEqual([real!.kid]);
    await runtime.db.deleteFrom('signing_keys').where('kid', 'in', [plantedKid, forgedKid]).execute();
  });

  it('neither publishes nor signs with a key sealed under the master key: the database and the master key are not enough to sign', async () => {
    const sealed = await new EnvelopeKeyProvider(runtime.box).generate('ES256');
    const now = runtime.clock.now();
    await runtime.db.insertInto('signing_keys').values({ kid: sealed.kid, alg: 'ES256', public_jwk: json(sealed.publicJwk), ...sealed.reference, created_at: now, active_from: now, retire_at: null }).execute();
    runtime.clock.advance(1);
    const kids = (await jwks()).keys.map((k) => k.kid);
    expect(kids).not.toContain(sealed.kid);
    expect(decodeProtectedHeader(await clientCredentialsToken()).kid).not.toBe(sealed.kid);
    await runtime.db.deleteFrom('signing_keys').where('kid', '=', sealed.kid).execute();
  });
});

describe('PKCS#11 settings', () => {
  it('refuses a module path that does not exist, a PIN in the environment, and token settings without the provider', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        testConfig(env);
      } catch (error) {
        return error;
      }
      throw new Error('accepted');
    };
    expect(refusal({ ...hsm.env, WARTA_PKCS11_MODULE: '/nowhere/libpkcs11.so' })).toMatchObject({ variable: 'WARTA_PKCS11_MODULE' });
    expect(refusal({ ...hsm.env, WARTA_PKCS11_MODULE: '/nowhere/libpkcs11.so' })).toBeInstanceOf(ConfigError);
    expect(refusal({ ...hsm.env, WARTA_PKCS11_TOKEN_LABEL: '' })).toMatchObject({ variable: 'WARTA_PKCS11_TOKEN_LABEL' });
    expect(refusal({ ...hsm.env, WARTA_PKCS11_PIN: hsm.pin })).toMatchObject({ variable: 'WARTA_PKCS11_PIN' });
    expect(refusal({ WARTA_PKCS11_MODULE: SOFTHSM_MODULE })).toMatchObject({ variable: 'WARTA_PKCS11_MODULE', message: expect.stringMatching(/only meaningful with WARTA_SIGNING_KEY_PROVIDER=pkcs11/) });
  });

  it('stops start-up on a wrong PIN with a configuration error that names the file and not the PIN, before the database is touched', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warta-wrong-pin-'));
    const wrongPin = `wrong-${hsm.pin}`;
    const pinFile = path.join(dir, 'pin');
    writeFileSync(pinFile, wrongPin, { mode: 0o600 });
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...hsm.env, WARTA_PKCS11_PIN_FILE: pinFile, NODE_ENV: 'development', PORT: '0', WARTA_DATA_DIR: path.join(dir, 'data'), DATABASE_URL: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(78);
    expect(stderr.trim()).toBe(`warta: configuration error: WARTA_PKCS11_PIN_FILE: the token "${hsm.label}" refused the PIN in "${pinFile}" (CKR_PIN_INCORRECT)`);
    expect(stderr).not.toContain(wrongPin);
    expect(existsSync(path.join(dir, 'data', 'pglite'))).toBe(false);
  });
});
