import { createHash, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';

import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { normalizeHtu, verifyDpopProof } from '../../src/oidc/dpop.js';
import type { VerifyDpopProofOptions } from '../../src/oidc/dpop.js';
import { rejectionFrom } from './expect-error.js';

const TOKEN_URL = 'https://as.example.com/token';
const USERINFO_URL = 'https://as.example.com/userinfo';
const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const ALLOWED_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const ACCESS_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';

interface ProofKey {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function proofKey(alg: string): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, jwk: await exportJWK(publicKey) };
}

interface ProofShape {
  claims?: Record<string, unknown>;
  omit?: string[];
  header?: Record<string, unknown>;
}

/** A proof for POST /token signed by `key`, with claims and header adjusted as asked. */
async function proof(key: ProofKey, { claims = {}, omit = [], header = {} }: ProofShape = {}): Promise<string> {
  const payload: Record<string, unknown> = { jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: NOW_SECONDS, ...claims };
  for (const name of omit) delete payload[name];
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...header })
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

function options(proofValue: string, overrides: Partial<VerifyDpopProofOptions> = {}): VerifyDpopProofOptions {
  return {
    proof: proofValue,
    method: 'POST',
    url: TOKEN_URL,
    now: NOW,
    maxAgeSeconds: 60,
    allowedAlgs: ALLOWED_ALGS,
    markJtiUsed: jtiStore(),
    ...overrides,
  };
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A token-request proof signed with node:crypto, for what jose refuses to sign (weak keys, mismatched curves, crit). */
function signedByNode(header: Record<string, unknown>, key: KeyObject, how: { hash: string; dsaEncoding?: 'ieee-p1363' }): string {
  const input = `${b64url(header)}.${b64url({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: NOW_SECONDS })}`;
  return `${input}.${sign(how.hash, Buffer.from(input), how.dsaEncoding ? { key, dsaEncoding: how.dsaEncoding } : key).toString('base64url')}`;
}

let es256: ProofKey;
let other: ProofKey;

beforeAll(async () => {
  es256 = await proofKey('ES256');
  other = await proofKey('ES256');
});

async function invalidProof(promise: Promise<unknown>, description?: RegExp) {
  const error = await rejectionFrom(promise);
  expect(error.code).toBe('invalid_dpop_proof');
  expect(error.status).toBe(400);
  if (description) expect(error.description).toMatch(description);
  return error;
}

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  describe('valid proofs', () => {
    it.each(ALLOWED_ALGS)('accepts a %s proof and returns the RFC 7638 thumbprint of its key', async (alg) => {
      const key = await proofKey(alg);
      const result = await verifyDpopProof(options(await proof(key)));
      expect(result).toEqual({ jkt: await calculateJwkThumbprint(key.jwk) });
    });

    it('accepts the token request proof of RFC 9449 Figure 5 and yields the jkt of Figure 9', async () => {
      const rfcProof =
        'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
        '.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ' +
        '.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
      const result = await verifyDpopProof(
        options(rfcProof, { url: 'https://server.example.com/token', now: new Date(1562262616 * 1000) }),
      );
      expect(result.jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    });

    it('accepts the protected resource proof of RFC 9449 Figure 13 with its access token', async () => {
      const rfcProof =
        'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
        '.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9' +
        '.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA';
      const at = {
        method: 'GET',
        url: 'https://resource.example.org/protectedresource',
        now: new Date(1562262618 * 1000),
      };
      await expect(verifyDpopProof(options(rfcProof, { ...at, accessToken: ACCESS_TOKEN }))).resolves.toEqual({
        jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I',
      });
      const error = await rejectionFrom(verifyDpopProof(options(rfcProof, { ...at, accessToken: `${ACCESS_TOKEN}x` })));
      expect(error.description).toMatch(/ath does not match/);
    });

    it('accepts a URL object for the request URL', async () => {
      await expect(verifyDpopProof(options(await proof(es256), { url: new URL(TOKEN_URL) }))).resolves.toHaveProperty('jkt');
    });
  });

  describe('a single well-formed JWT (rules 1-2)', () => {
    it.each([
      ['not a JWT', 'not-a-jwt'],
      ['an empty value', ''],
      ['a JWS without signature', 'eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.'],
      ['a JWE-shaped value', 'a.b.c.d.e'],
    ])('rejects %s', async (_, value) => {
      await invalidProof(verifyDpopProof(options(value)), /exactly one well-formed JWT/);
    });

    it('rejects two proofs joined into one header value', async () => {
      const joined = `${await proof(es256)}, ${await proof(es256)}`;
      await invalidProof(verifyDpopProof(options(joined)), /exactly one well-formed JWT/);
    });

    it('rejects an oversized proof', async () => {
      const huge = await proof(es256, { claims: { padding: 'x'.repeat(9000) } });
      await invalidProof(verifyDpopProof(options(huge)), /exactly one well-formed JWT/);
    });

    it('rejects a header that is not JSON', async () => {
      await invalidProof(verifyDpopProof(options('bm90IGpzb24.eyJ4IjoxfQ.c2ln')), /header is not valid JSON/);
    });
  });

  describe('header: typ, alg, jwk (rules 4, 5, 7)', () => {
    it('rejects a proof without typ', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { header: { typ: undefined } }))), /typ/);
    });

    it.each(['JWT', 'at+jwt', 'dpop', 'dpop+jwt+x'])('rejects typ %o', async (typ) => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { header: { typ } }))), /typ header must be dpop\+jwt/);
    });

    it('accepts the full media type application/dpop+jwt (RFC 7515 §4.1.9)', async () => {
      await expect(verifyDpopProof(options(await proof(es256, { header: { typ: 'application/dpop+jwt' } })))).resolves.toBeDefined();
    });

    it('rejects an asymmetric alg that local policy does not allow', async () => {
      const es384 = await proofKey('ES384');
      await invalidProof(verifyDpopProof(options(await proof(es384))), /alg must be one of ES256, EdDSA, RS256, PS256/);
    });

    it('rejects a MAC (HS256) even when the allowed list wrongly includes it', async () => {
      const secret = new Uint8Array(32).fill(7);
      // The secret itself in the header, as a naive verifier of "the key in jwk" would use it.
      const secretJwk = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };
      const hs256 = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: NOW_SECONDS })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: secretJwk })
        .sign(secret);
      await invalidProof(verifyDpopProof(options(hs256, { allowedAlgs: ['HS256', 'ES256'] })), /alg must be one of ES256$/);
    });

    it('rejects alg none', async () => {
      const header = b64url({ alg: 'none', typ: 'dpop+jwt', jwk: es256.jwk });
      const payload = b64url({ jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: NOW_SECONDS });
      await invalidProof(verifyDpopProof(options(`${header}.${payload}.AAAA`)), /alg must be one of/);
    });

    it('treats an allowed list without any asymmetric algorithm as a server misconfiguration', async () => {
      const error = await rejectionFrom(verifyDpopProof(options(await proof(es256), { allowedAlgs: ['HS256', 'none'] })));
      expect(error.status).toBe(500);
      expect(error.code).toBe('server_error');
    });

    it('rejects a proof without jwk header', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { header: { jwk: undefined } }))), /public key in the jwk header/);
    });

    it('rejects a jwk header holding the private key', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const privateJwk = await exportJWK(privateKey);
      expect(privateJwk.d).toBeDefined();
      const leaky = await proof({ alg: 'ES256', privateKey, jwk: await exportJWK(publicKey) }, { header: { jwk: privateJwk } });
      await invalidProof(verifyDpopProof(options(leaky)), /must not contain a private key/);
    });

    it('rejects a jwk header that is not an asymmetric public key type', async () => {
      await invalidProof(
        verifyDpopProof(options(await proof(es256, { header: { jwk: { kty: 'AKP', alg: 'ES256', pub: 'AAAA' } } }))),
        /EC, RSA or OKP public key/,
      );
    });
  });

  describe('signature (rule 6)', () => {
    it('rejects a proof signed by a key other than the one in its jwk header', async () => {
      const forged = await proof(other, { header: { jwk: es256.jwk } });
      await invalidProof(verifyDpopProof(options(forged)), /signature does not verify/);
    });

    it('rejects a proof whose payload was swapped after signing', async () => {
      const [header, , signature] = (await proof(es256)).split('.');
      const [, getPayload] = (await proof(es256, { claims: { htm: 'GET' } })).split('.');
      await invalidProof(verifyDpopProof(options(`${header}.${getPayload}.${signature}`)), /signature does not verify/);
    });

    it('rejects a jwk header whose key does not fit the alg', async () => {
      const rsa = await proofKey('RS256');
      await invalidProof(verifyDpopProof(options(await proof(es256, { header: { jwk: rsa.jwk } }))), /signature does not verify/);
    });

    it('rejects an EC key of another curve than the alg names', async () => {
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const forged = signedByNode({ alg: 'ES256', typ: 'dpop+jwt', jwk: p384.publicKey.export({ format: 'jwk' }) }, p384.privateKey, { hash: 'sha384', dsaEncoding: 'ieee-p1363' });
      await invalidProof(verifyDpopProof(options(forged)), /not a key for ES256/);
    });

    it.each(['ES384', 'ES512', 'PS384', 'RS512', 'Ed25519'])('accepts a %s proof when local policy allows it', async (alg) => {
      const key = await proofKey(alg);
      await expect(verifyDpopProof(options(await proof(key), { allowedAlgs: [alg] }))).resolves.toEqual({ jkt: await calculateJwkThumbprint(key.jwk) });
    });

    it('rejects an RSA key shorter than 2048 bits (RFC 7518 §3.3)', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const weak = signedByNode({ alg: 'RS256', typ: 'dpop+jwt', jwk: rsa.publicKey.export({ format: 'jwk' }) }, rsa.privateKey, { hash: 'sha256' });
      await invalidProof(verifyDpopProof(options(weak)), /at least 2048 bits/);
    });

    it('rejects a key published for encryption, or not for verification', async () => {
      await invalidProof(verifyDpopProof(options(await proof({ ...es256, jwk: { ...es256.jwk, use: 'enc' } }))), /not a signature verification key/);
      await invalidProof(verifyDpopProof(options(await proof({ ...es256, jwk: { ...es256.jwk, key_ops: ['encrypt'] } }))), /not a signature verification key/);
    });

    describe('the proof key, remembered between proofs', () => {
      it('verifies with a remembered key only the signatures of that key, and tells other keys apart', async () => {
        await expect(verifyDpopProof(options(await proof(es256)))).resolves.toEqual({ jkt: await calculateJwkThumbprint(es256.jwk) });
        await invalidProof(verifyDpopProof(options(await proof(other, { header: { jwk: es256.jwk } }))), /signature does not verify/);
        await expect(verifyDpopProof(options(await proof(other)))).resolves.toEqual({ jkt: await calculateJwkThumbprint(other.jwk) });
        await invalidProof(verifyDpopProof(options(await proof(es256, { header: { jwk: other.jwk } }))), /signature does not verify/);
      });

      it('checks what the header says beside the key on every proof, the key remembered or not', async () => {
        await verifyDpopProof(options(await proof(es256)));
        await invalidProof(verifyDpopProof(options(await proof({ ...es256, jwk: { ...es256.jwk, use: 'enc' } }))), /not a signature verification key/);
        await invalidProof(verifyDpopProof(options(await proof({ ...es256, jwk: { ...es256.jwk, key_ops: ['encrypt'] } }))), /not a signature verification key/);
        const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
        const p384Jwk = p384.publicKey.export({ format: 'jwk' });
        const asEs384 = signedByNode({ alg: 'ES384', typ: 'dpop+jwt', jwk: p384Jwk }, p384.privateKey, { hash: 'sha384', dsaEncoding: 'ieee-p1363' });
        await verifyDpopProof(options(asEs384, { allowedAlgs: ['ES256', 'ES384'] }));
        const asEs256 = signedByNode({ alg: 'ES256', typ: 'dpop+jwt', jwk: p384Jwk }, p384.privateKey, { hash: 'sha384', dsaEncoding: 'ieee-p1363' });
        await invalidProof(verifyDpopProof(options(asEs256, { allowedAlgs: ['ES256', 'ES384'] })), /not a key for ES256/);
        // Members outside RFC 7638's set change neither the key nor its thumbprint.
        const labelled = await proof({ ...es256, jwk: { ...es256.jwk, kid: 'device-1', alg: 'ES256' } });
        await expect(verifyDpopProof(options(labelled))).resolves.toEqual({ jkt: await calculateJwkThumbprint(es256.jwk) });
      });

      it('remembers no key it refused: a weak or invalid key is refused every time', async () => {
        const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
        const weak = () => signedByNode({ alg: 'RS256', typ: 'dpop+jwt', jwk: rsa.publicKey.export({ format: 'jwk' }) }, rsa.privateKey, { hash: 'sha256' });
        await invalidProof(verifyDpopProof(options(weak())), /at least 2048 bits/);
        await invalidProof(verifyDpopProof(options(weak())), /at least 2048 bits/);
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const jwk = ec.publicKey.export({ format: 'jwk' });
        const y = Buffer.from(jwk.y!, 'base64url');
        y.writeUInt8(y.readUInt8(31) ^ 1, 31);
        const offCurve = () => signedByNode({ alg: 'ES256', typ: 'dpop+jwt', jwk: { ...jwk, y: y.toString('base64url') } }, ec.privateKey, { hash: 'sha256', dsaEncoding: 'ieee-p1363' });
        await invalidProof(verifyDpopProof(options(offCurve())), /not a valid public key/);
        await invalidProof(verifyDpopProof(options(offCurve())), /not a valid public key/);
      });
    });

    it('rejects a critical header extension (RFC 7515 §4.1.11)', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const critical = signedByNode({ alg: 'ES256', typ: 'dpop+jwt', jwk: ec.publicKey.export({ format: 'jwk' }), crit: ['exp'], exp: NOW_SECONDS + 60 }, ec.privateKey, { hash: 'sha256', dsaEncoding: 'ieee-p1363' });
      await invalidProof(verifyDpopProof(options(critical)), /crit/);
    });
  });

  describe('required claims (rule 3)', () => {
    it.each(['jti', 'htm', 'htu', 'iat'])('rejects a proof without %s', async (claim) => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { omit: [claim] }))), new RegExp(`contain an? (numeric )?${claim}`));
    });

    it.each([
      ['jti', 42],
      ['jti', ''],
      ['htm', ['POST']],
      ['htu', { href: TOKEN_URL }],
      ['iat', String(NOW_SECONDS)],
    ])('rejects %s of the wrong type (%o)', async (claim, value) => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { [claim]: value } }))), new RegExp(claim));
    });

    it('rejects an unnecessarily large jti (RFC 9449 §11.1)', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { jti: 'j'.repeat(257) } }))), /at most 256/);
      await expect(verifyDpopProof(options(await proof(es256, { claims: { jti: 'j'.repeat(256) } })))).resolves.toBeDefined();
    });
  });

  describe('htm and htu (rules 8-9)', () => {
    it('rejects a proof made for another method', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { htm: 'GET' } }))), /htm/);
    });

    it('compares the method case-sensitively', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { htm: 'post' } }))), /htm/);
    });

    it.each([
      ['another path', 'https://as.example.com/par'],
      ['another host', 'https://rs.example.com/token'],
      ['http instead of https', 'http://as.example.com/token'],
      ['another port', 'https://as.example.com:8443/token'],
      ['a relative reference', '/token'],
      ['a non-http scheme', 'urn:example:token'],
    ])('rejects a proof made for %s', async (_, htu) => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { htu } }))), /htu does not match/);
    });

    it('ignores the query and fragment of the request URL', async () => {
      await expect(verifyDpopProof(options(await proof(es256), { url: `${TOKEN_URL}?x=1#y` }))).resolves.toBeDefined();
    });

    it('ignores a query and fragment in htu', async () => {
      await expect(verifyDpopProof(options(await proof(es256, { claims: { htu: `${TOKEN_URL}?a=b#c` } })))).resolves.toBeDefined();
    });

    it.each([
      'HTTPS://AS.Example.COM/token',
      'https://as.example.com:443/token',
      'https://as.example.com/./token',
      'https://as.example.com/%74oken',
    ])('normalises htu %s before comparing (RFC 3986 §6.2.2-6.2.3)', async (htu) => {
      await expect(verifyDpopProof(options(await proof(es256, { claims: { htu } })))).resolves.toBeDefined();
    });

    it('normalises percent-encoding: unreserved characters decoded, other escapes upper-cased', () => {
      expect(normalizeHtu('https://as.example.com/%7euser/a%2fb')).toBe('https://as.example.com/~user/a%2Fb');
      expect(normalizeHtu('https://as.example.com')).toBe('https://as.example.com/');
      expect(normalizeHtu('not a url')).toBeNull();
    });

    it('treats a request URL it cannot parse as a server error', async () => {
      const error = await rejectionFrom(verifyDpopProof(options(await proof(es256), { url: '/token' })));
      expect(error.status).toBe(500);
    });
  });

  describe('iat window (rule 11, RFC 9449 §11.1)', () => {
    it('accepts a proof exactly maxAgeSeconds old', async () => {
      await expect(verifyDpopProof(options(await proof(es256, { claims: { iat: NOW_SECONDS - 60 } })))).resolves.toBeDefined();
    });

    it('rejects a proof older than maxAgeSeconds', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { iat: NOW_SECONDS - 61 } }))), /too old/);
    });

    it('accepts an iat up to 10 seconds in the future (clock skew)', async () => {
      await expect(verifyDpopProof(options(await proof(es256, { claims: { iat: NOW_SECONDS + 10 } })))).resolves.toBeDefined();
    });

    it('rejects an iat further in the future (a pre-generated proof)', async () => {
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { iat: NOW_SECONDS + 11 } }))), /in the future/);
    });

    it('honours a configured clock skew', async () => {
      const early = await proof(es256, { claims: { iat: NOW_SECONDS + 5 } });
      await invalidProof(verifyDpopProof(options(early, { clockSkewSeconds: 0 })), /in the future/);
    });
  });

  describe('jti single use (RFC 9449 §11.1)', () => {
    it('records the jti until the proof would expire anyway', async () => {
      const markJtiUsed = jtiStore();
      const iat = NOW_SECONDS - 20;
      await verifyDpopProof(options(await proof(es256, { claims: { jti: 'jti-1', iat } }), { markJtiUsed }));
      expect(markJtiUsed).toHaveBeenCalledExactlyOnceWith('jti-1', new Date((iat + 60) * 1000));
    });

    it('rejects a replayed proof', async () => {
      const markJtiUsed = jtiStore();
      const replayed = await proof(es256);
      await verifyDpopProof(options(replayed, { markJtiUsed }));
      await invalidProof(verifyDpopProof(options(replayed, { markJtiUsed })), /jti has already been used/);
    });

    it('does not burn the jti of a proof that fails another check', async () => {
      const markJtiUsed = jtiStore();
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { htm: 'GET' } }), { markJtiUsed })));
      await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { iat: NOW_SECONDS - 600 } }), { markJtiUsed })));
      expect(markJtiUsed).not.toHaveBeenCalled();
    });
  });

  describe('access token binding (rule 12) and resource server errors (§7.1)', () => {
    const atResource = (proofValue: string, overrides: Partial<VerifyDpopProofOptions> = {}) =>
      options(proofValue, { method: 'GET', url: USERINFO_URL, accessToken: ACCESS_TOKEN, ...overrides });
    const forUserinfo = { htm: 'GET', htu: USERINFO_URL };

    it('accepts a proof whose ath is the hash of the presented access token', async () => {
      const good = await proof(es256, { claims: { ...forUserinfo, ath: ath(ACCESS_TOKEN) } });
      await expect(verifyDpopProof(atResource(good))).resolves.toBeDefined();
    });

    it('rejects a proof without ath when an access token is presented, as a 401 DPoP challenge', async () => {
      const error = await rejectionFrom(verifyDpopProof(atResource(await proof(es256, { claims: forUserinfo }))));
      expect(error.status).toBe(401);
      expect(error.code).toBe('invalid_dpop_proof');
      expect(error.description).toMatch(/must contain ath/);
      expect(error.headers['WWW-Authenticate']).toBe(
        `DPoP error="invalid_dpop_proof", error_description="${error.description}", algs="ES256 EdDSA RS256 PS256"`,
      );
    });

    it('rejects a proof bound to another access token', async () => {
      const stale = await proof(es256, { claims: { ...forUserinfo, ath: ath('another-token') } });
      const error = await rejectionFrom(verifyDpopProof(atResource(stale)));
      expect(error.status).toBe(401);
      expect(error.description).toMatch(/ath does not match/);
    });

    it('answers 400 without a challenge at the token endpoint', async () => {
      const error = await invalidProof(verifyDpopProof(options(await proof(es256, { claims: { htm: 'GET' } }))));
      expect(error.headers).toEqual({});
    });
  });

  describe('server-provided nonce (rule 10, §8, §9)', () => {
    const NONCE = 'eyJ7S_zG.eyJH0-Z.HX4w-7v';

    it('accepts a proof carrying the current nonce', async () => {
      await expect(verifyDpopProof(options(await proof(es256, { claims: { nonce: NONCE } }), { nonce: NONCE }))).resolves.toBeDefined();
    });

    it('asks for the nonce with use_dpop_nonce and a DPoP-Nonce header at the token endpoint', async () => {
      const error = await rejectionFrom(verifyDpopProof(options(await proof(es256), { nonce: NONCE })));
      expect(error.status).toBe(400);
      expect(error.code).toBe('use_dpop_nonce');
      expect(error.description).toMatch(/must contain the nonce/);
      expect(error.headers).toEqual({ 'DPoP-Nonce': NONCE });
    });

    it.each(['stale-nonce', 42])('rejects the wrong nonce %o with use_dpop_nonce', async (nonce) => {
      const error = await rejectionFrom(verifyDpopProof(options(await proof(es256, { claims: { nonce } }), { nonce: NONCE })));
      expect(error.code).toBe('use_dpop_nonce');
      expect(error.headers['DPoP-Nonce']).toBe(NONCE);
    });

    it('asks for the nonce with a 401 DPoP challenge at a protected resource', async () => {
      const withoutNonce = await proof(es256, { claims: { htm: 'GET', htu: USERINFO_URL, ath: ath(ACCESS_TOKEN) } });
      const error = await rejectionFrom(
        verifyDpopProof(options(withoutNonce, { method: 'GET', url: USERINFO_URL, accessToken: ACCESS_TOKEN, nonce: NONCE })),
      );
      expect(error.status).toBe(401);
      expect(error.code).toBe('use_dpop_nonce');
      expect(error.headers['DPoP-Nonce']).toBe(NONCE);
      expect(error.headers['WWW-Authenticate']).toMatch(/^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="/);
    });

    it('does not burn the jti of a proof refused for its nonce, so the client can retry', async () => {
      const markJtiUsed = jtiStore();
      await rejectionFrom(verifyDpopProof(options(await proof(es256), { nonce: NONCE, markJtiUsed })));
      expect(markJtiUsed).not.toHaveBeenCalled();
    });
  });
});
