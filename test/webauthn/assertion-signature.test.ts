/**
 * The sign-in's own assertion signature check (src/webauthn/assertion-signature.ts,
 * src/crypto/cose-key.ts): for every algorithm Warta registers, what
 * @simplewebauthn/server's verifyAuthenticationResponse accepts is accepted, and
 * each tampering is refused with its stable code. Then the same through the
 * sign-in endpoint, with the stored key swapped for one of each algorithm.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { type AuthenticationResponseJSON, generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { checkAssertionSignature } from '../../src/webauthn/assertion-signature.js';
import { COSE_EDDSA, COSE_ES256, COSE_RS256, ecdsaDerToP1363 } from '../../src/crypto/cose-key.js';
import { requestOptions, SUPPORTED_ALGORITHMS } from '../../src/webauthn/options.js';
import { encodeCbor } from '../support/cbor.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, enroll, origin, TEST_ENV } from './ceremony.js';

const RP_ID = 'id.example';
const ORIGIN = 'https://id.example';
const CHALLENGE = 'dGhlLWNoYWxsZW5nZS1XYXJ0YS1pc3N1ZWQ';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;

type Algorithm = 'ES256' | 'EdDSA' | 'RS256';
const ALGORITHMS: Algorithm[] = ['ES256', 'EdDSA', 'RS256'];

interface TestKey {
  privateKey: KeyObject;
  /** The COSE_Key as Warta stores it (base64url). */
  cose: string;
  alg: Algorithm;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const fromB64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** A COSE_Key map (RFC 9053 §7) with the given labels. */
const coseKey = (entries: [number, number | Uint8Array][]) => b64(encodeCbor(new Map<number, number | Uint8Array>(entries)));

function newKey(alg: Algorithm): TestKey {
  if (alg === 'ES256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    return { alg, privateKey, cose: coseKey([[1, 2], [3, COSE_ES256], [-1, 1], [-2, fromB64(jwk.x!)], [-3, fromB64(jwk.y!)]]) };
  }
  if (alg === 'EdDSA') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    return { alg, privateKey, cose: coseKey([[1, 1], [3, COSE_EDDSA], [-1, 6], [-2, fromB64(jwk.x!)]]) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { alg, privateKey, cose: coseKey([[1, 3], [3, COSE_RS256], [-1, fromB64(jwk.n!)], [-2, fromB64(jwk.e!)]]) };
}

const KEYS = Object.fromEntries(ALGORITHMS.map((alg) => [alg, newKey(alg)])) as Record<Algorithm, TestKey>;

const signWith = (key: TestKey, data: Uint8Array) => new Uint8Array(sign(key.alg === 'EdDSA' ? null : 'sha256', data, key.privateKey));

function authenticatorData(rpId: string, flags: number, signCount: number): Uint8Array {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(signCount);
  return new Uint8Array(Buffer.concat([sha256(rpId), Buffer.of(flags), counter]));
}

interface SignedParts {
  authenticatorData: Uint8Array;
  clientDataJSON: Uint8Array;
  signature: Uint8Array;
}

function signedAssertion(key: TestKey, input: { rpId?: string; origin?: string; challenge?: string; flags?: number; signCount?: number; clientData?: Record<string, unknown> } = {}): SignedParts {
  const clientDataJSON = new TextEncoder().encode(JSON.stringify({ type: 'webauthn.get', challenge: input.challenge ?? CHALLENGE, origin: input.origin ?? ORIGIN, crossOrigin: false, ...input.clientData }));
  const authData = authenticatorData(input.rpId ?? RP_ID, input.flags ?? FLAG_UP | FLAG_UV, input.signCount ?? 7);
  return { authenticatorData: authData, clientDataJSON, signature: signWith(key, Buffer.concat([authData, sha256(clientDataJSON)])) };
}

function asResponse(credentialId: string, parts: SignedParts, userHandle?: string): AuthenticationResponseJSON {
  return {
    id: credentialId,
    rawId: credentialId,
    type: 'public-key',
    response: { clientDataJSON: b64(parts.clientDataJSON), authenticatorData: b64(parts.authenticatorData), signature: b64(parts.signature), ...(userHandle ? { userHandle } : {}) },
    clientExtensionResults: {},
  };
}

/** What @simplewebauthn/server says of the same assertion. */
async function libraryVerdict(key: TestKey, parts: SignedParts): Promise<boolean> {
  try {
    const result = await verifyAuthenticationResponse({
      response: asResponse('Y3JlZA', parts),
      expectedChallenge: CHALLENGE,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: true,
      credential: { id: 'Y3JlZA', publicKey: fromB64(key.cose), counter: 0 },
    });
    return result.verified;
  } catch {
    return false;
  }
}

function wartaRefusal(publicKey: string, parts: SignedParts): string | undefined {
  try {
    checkAssertionSignature(publicKey, parts);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const flipBit = (bytes: Uint8Array, index: number) => {
  const copy = new Uint8Array(bytes);
  copy[index < 0 ? copy.length + index : index]! ^= 0x01;
  return copy;
};

describe('assertion signatures, checked without the library', () => {
  it('covers every algorithm passkeys are registered with', () => {
    expect([...SUPPORTED_ALGORITHMS].sort()).toEqual([COSE_ES256, COSE_EDDSA, COSE_RS256].sort());
  });

  for (const alg of ALGORITHMS) {
    describe(alg, () => {
      const key = KEYS[alg];

      it('accepts a valid assertion, as @simplewebauthn/server does', async () => {
        const parts = signedAssertion(key);
        expect(await libraryVerdict(key, parts)).toBe(true);
        expect(wartaRefusal(key.cose, parts)).toBeUndefined();
        // Twice: the second time from the cached key.
        expect(wartaRefusal(key.cose, signedAssertion(key, { signCount: 8 }))).toBeUndefined();
      });

      it('refuses a flipped bit in the signature, the authenticator data or the client data', async () => {
        const parts = signedAssertion(key);
        const tampered = [
          { ...parts, signature: flipBit(parts.signature, -1) },
          { ...parts, authenticatorData: flipBit(parts.authenticatorData, 36) },
          { ...parts, clientDataJSON: flipBit(parts.clientDataJSON, parts.clientDataJSON.length - 3) },
        ];
        for (const forged of tampered) {
          expect(wartaRefusal(key.cose, forged)).toBe('signature_invalid');
          expect(await libraryVerdict(key, forged)).toBe(false);
        }
      });

      it('refuses a signature made by another key of the same algorithm, even once that key was cached', () => {
        const other = newKey(alg);
        const parts = signedAssertion(other);
        expect(wartaRefusal(other.cose, parts)).toBeUndefined();
        expect(wartaRefusal(key.cose, parts)).toBe('signature_invalid');
      });
    });
  }

  it('reads DER signatures as the library does: short r or s, and a 32-byte r with its top bit set', async () => {
    const key = KEYS.ES256;
    // ECDSA signatures are randomised: sign until each shape has turned up. A short r comes once in
    // 512 signatures, so 2000 tries missed it about once in 50 runs; 20000 miss it once in 10^17.
    const shapes = new Set<string>();
    for (let attempt = 0; attempt < 20_000 && shapes.size < 2; attempt++) {
      const parts = signedAssertion(key, { signCount: attempt });
      const raw = ecdsaDerToP1363(parts.signature, 32);
      const der = derOf(raw.subarray(0, 32), raw.subarray(32), { keepSignByte: false });
      const shape = raw[0]! >= 0x80 ? 'top-bit' : raw[0] === 0 && raw[1]! < 0x80 ? 'short' : undefined;
      if (!shape || shapes.has(shape)) continue;
      shapes.add(shape);
      // top-bit: r without its DER sign byte, which strict DER readers refuse and the library takes.
      const variant = { ...parts, signature: der };
      expect(await libraryVerdict(key, variant)).toBe(true);
      expect(wartaRefusal(key.cose, variant)).toBeUndefined();
    }
    expect([...shapes].sort()).toEqual(['short', 'top-bit']);
  });

  it('refuses an ES256 signature that is not DER (raw r ‖ s, a wrong tag, cut short, empty)', async () => {
    const key = KEYS.ES256;
    const parts = signedAssertion(key);
    const raw = ecdsaDerToP1363(parts.signature, 32);
    for (const signature of [raw, Uint8Array.from([0x31, ...parts.signature.subarray(1)]), parts.signature.subarray(0, 10), new Uint8Array(0)]) {
      expect(wartaRefusal(key.cose, { ...parts, signature })).toBe('malformed_response');
      expect(await libraryVerdict(key, { ...parts, signature })).toBe(false);
    }
  });

  it('refuses bytes after the DER signature (the library ignores them; DER has none)', () => {
    const parts = signedAssertion(KEYS.ES256);
    expect(wartaRefusal(KEYS.ES256.cose, { ...parts, signature: Uint8Array.from([...parts.signature, 0]) })).toBe('malformed_response');
    // Inside the SEQUENCE, after s.
    const inside = Uint8Array.from([0x30, parts.signature[1]! + 1, ...parts.signature.subarray(2), 0]);
    expect(wartaRefusal(KEYS.ES256.cose, { ...parts, signature: inside })).toBe('malformed_response');
  });

  it('refuses a key whose algorithm does not fit its key type or curve', () => {
    const ec = KEYS.ES256.privateKey.export({ format: 'jwk' });
    const ed = KEYS.EdDSA.privateKey.export({ format: 'jwk' });
    const rsa = KEYS.RS256.privateKey.export({ format: 'jwk' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const mismatched = {
      'EC2 key labelled EdDSA': coseKey([[1, 2], [3, COSE_EDDSA], [-1, 1], [-2, fromB64(ec.x!)], [-3, fromB64(ec.y!)]]),
      'OKP key labelled ES256': coseKey([[1, 1], [3, COSE_ES256], [-1, 6], [-2, fromB64(ed.x!)]]),
      'RSA key labelled ES256': coseKey([[1, 3], [3, COSE_ES256], [-1, fromB64(rsa.n!)], [-2, fromB64(rsa.e!)]]),
      'ES256 on P-384': coseKey([[1, 2], [3, COSE_ES256], [-1, 2], [-2, fromB64(p384.x!)], [-3, fromB64(p384.y!)]]),
      'ES256 with an Ed25519 curve': coseKey([[1, 2], [3, COSE_ES256], [-1, 6], [-2, fromB64(ec.x!)], [-3, fromB64(ec.y!)]]),
      'EdDSA on another curve': coseKey([[1, 1], [3, COSE_EDDSA], [-1, 7], [-2, fromB64(ed.x!)]]),
      'ES256 point off the curve': coseKey([[1, 2], [3, COSE_ES256], [-1, 1], [-2, fromB64(ec.x!)], [-3, flipBit(fromB64(ec.y!), -1)]]),
      'ES256 with a short x': coseKey([[1, 2], [3, COSE_ES256], [-1, 1], [-2, fromB64(ec.x!).subarray(1)], [-3, fromB64(ec.y!)]]),
      'P-256 key with kty OKP': coseKey([[1, 1], [3, COSE_ES256], [-1, 1], [-2, fromB64(ec.x!)], [-3, fromB64(ec.y!)]]),
      'Ed25519 key with kty EC2': coseKey([[1, 2], [3, COSE_EDDSA], [-1, 6], [-2, fromB64(ed.x!)]]),
      'RSA key with kty EC2': coseKey([[1, 2], [3, COSE_RS256], [-1, fromB64(rsa.n!)], [-2, fromB64(rsa.e!)]]),
      'no alg': coseKey([[1, 2], [-1, 1], [-2, fromB64(ec.x!)], [-3, fromB64(ec.y!)]]),
    };
    const parts = signedAssertion(KEYS.ES256);
    for (const [what, cose] of Object.entries(mismatched)) expect(wartaRefusal(cose, parts), what).toBe('malformed_response');
  });

  it('refuses a truncated or garbage COSE key', () => {
    const parts = signedAssertion(KEYS.ES256);
    const whole = fromB64(KEYS.ES256.cose);
    for (const cose of [b64(whole.subarray(0, whole.length - 20)), b64(whole.subarray(0, 3)), b64(Uint8Array.of(0xff, 0x00, 0x13)), b64(encodeCbor('a text string')), b64(encodeCbor([1, 2, 3])), ''])
      expect(wartaRefusal(cose, parts), cose).toBe('malformed_response');
  });

  it('refuses algorithms Warta does not register: ES384, PS256, RS1', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const p384Jwk = p384.publicKey.export({ format: 'jwk' });
    const es384 = coseKey([[1, 2], [3, -35], [-1, 2], [-2, fromB64(p384Jwk.x!)], [-3, fromB64(p384Jwk.y!)]]);
    const es384Parts = signedAssertion({ alg: 'ES256', privateKey: p384.privateKey, cose: es384 });
    const rsa = KEYS.RS256.privateKey.export({ format: 'jwk' });
    const rsaParts = signedAssertion(KEYS.RS256);
    expect(wartaRefusal(es384, es384Parts)).toBe('malformed_response');
    expect(wartaRefusal(coseKey([[1, 3], [3, -37], [-1, fromB64(rsa.n!)], [-2, fromB64(rsa.e!)]]), rsaParts)).toBe('malformed_response');
    expect(wartaRefusal(coseKey([[1, 3], [3, -65535], [-1, fromB64(rsa.n!)], [-2, fromB64(rsa.e!)]]), rsaParts)).toBe('malformed_response');
  });
});

/** DER Ecdsa-Sig-Value of r and s; without `keepSignByte`, an integer with its top bit set is written without the 0x00 DER needs. */
function derOf(r: Uint8Array, s: Uint8Array, options: { keepSignByte: boolean }): Uint8Array {
  const integer = (value: Uint8Array) => {
    let bytes = value;
    while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
    if (options.keepSignByte && bytes[0]! >= 0x80) bytes = Uint8Array.from([0, ...bytes]);
    return [0x02, bytes.length, ...bytes];
  };
  const body = [...integer(r), ...integer(s)];
  return Uint8Array.from([0x30, body.length, ...body]);
}

describe('passkey sign-in with each algorithm', async () => {
  const runtime = await createTestRuntime({ env: TEST_ENV });
  const rpId = runtime.config.webauthn.rpId;

  /** An enrolled passkey whose stored public key is swapped for `key`; the sign-in then signs with `key`. */
  async function passkeyWith(key: TestKey) {
    const { authenticator, user } = await enroll(runtime);
    const credential = authenticator.credentials[0]!;
    await runtime.db.updateTable('webauthn_credentials').set({ public_key: key.cose }).where('credential_id', '=', credential.id).execute();
    return { credential, user };
  }

  async function signInWith(key: TestKey, passkey: Awaited<ReturnType<typeof passkeyWith>>, input: { flags?: number; clientData?: Record<string, unknown>; signCount?: number } = {}) {
    const client = browser(runtime);
    const options = await authenticationOptions(client);
    const parts = signedAssertion(key, { rpId, origin: origin(runtime), challenge: options.challenge, ...input });
    return client.post('/api/webauthn/authentication/verify', { credential: asResponse(passkey.credential.id, parts, passkey.credential.userHandle) });
  }

  for (const alg of ALGORITHMS) {
    it(`signs in with an ${alg} passkey`, async () => {
      const passkey = await passkeyWith(KEYS[alg]);
      const reply = await signInWith(KEYS[alg], passkey);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.user.id).toBe(passkey.user.id);
    });
  }

  it('refuses an assertion without user verification', async () => {
    const passkey = await passkeyWith(KEYS.ES256);
    const reply = await signInWith(KEYS.ES256, passkey, { flags: FLAG_UP });
    expect([reply.status, reply.body.error]).toEqual([400, 'user_verification_required']);
  });

  it('refuses backup state (BS) without backup eligibility (BE)', async () => {
    const passkey = await passkeyWith(KEYS.ES256);
    const reply = await signInWith(KEYS.ES256, passkey, { flags: FLAG_UP | FLAG_UV | FLAG_BS });
    expect([reply.status, reply.body.error]).toEqual([400, 'malformed_response']);
  });

  it('refuses backup eligibility the passkey did not have at registration, once the signature holds', async () => {
    const passkey = await passkeyWith(KEYS.EdDSA);
    const reply = await signInWith(KEYS.EdDSA, passkey, { flags: FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS });
    expect([reply.status, reply.body.error]).toEqual([401, 'backup_eligibility_changed']);
  });

  it('refuses a malformed tokenBinding member in the client data', async () => {
    const passkey = await passkeyWith(KEYS.ES256);
    for (const tokenBinding of [{ status: 'bogus' }, 'present']) {
      const reply = await signInWith(KEYS.ES256, passkey, { clientData: { tokenBinding } });
      expect([reply.status, reply.body.error]).toEqual([400, 'malformed_response']);
    }
    const wellFormed = await signInWith(KEYS.ES256, passkey, { clientData: { tokenBinding: { status: 'supported' } } });
    expect(wellFormed.status, JSON.stringify(wellFormed.body)).toBe(200);
  });

  it('answers 400, not 500, when the stored key is unusable', async () => {
    const passkey = await passkeyWith(KEYS.ES256);
    await runtime.db.updateTable('webauthn_credentials').set({ public_key: b64(Uint8Array.of(0xa1, 0x01)) }).where('credential_id', '=', passkey.credential.id).execute();
    const reply = await signInWith(KEYS.ES256, passkey);
    expect([reply.status, reply.body.error]).toEqual([400, 'malformed_response']);
  });

  it('refuses an assertion signed by the registered authenticator once another key is stored', async () => {
    const passkey = await passkeyWith(KEYS.RS256);
    const reply = await signInWith(KEYS.EdDSA, passkey);
    expect([reply.status, reply.body.error]).toEqual([401, 'signature_invalid']);
  });
});

describe('sign-in options', () => {
  it('are what @simplewebauthn/server would have built from the same challenge and credentials', async () => {
    const config = { webauthn: { rpId: 'id.example', challengeTtlSeconds: 300 } } as Parameters<typeof requestOptions>[0];
    const challenge = b64(randomBytes(32));
    const allow = [
      { credential_id: b64(randomBytes(16)), transports: ['internal', 'hybrid'] },
      { credential_id: b64(randomBytes(64)), transports: [] },
    ] as Parameters<typeof requestOptions>[1]['allow'];
    for (const credentials of [[], allow]) {
      const expected = await generateAuthenticationOptions({
        rpID: 'id.example',
        challenge: Buffer.from(challenge, 'base64url'),
        timeout: 300_000,
        userVerification: 'required',
        allowCredentials: credentials.map((c) => ({ id: c.credential_id, transports: c.transports })),
      });
      expect(JSON.stringify(requestOptions(config, { challenge, allow: credentials }))).toBe(JSON.stringify(expected));
    }
  });
});
