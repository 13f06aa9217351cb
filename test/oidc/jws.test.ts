import { generateKeyPairSync, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { CompactJws } from '../../src/oidc/jws.js';

/** A key set that can be changed, as SigningKeys' snapshot changes after a rotation or a withdrawal. */
function signingKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const published = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1', alg: 'ES256', use: 'sig' };
  const state = { jwks: { keys: [published] } };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    state,
    published,
    jwks: async () => state.jwks,
    sign: async (payload: Record<string, unknown>, header: { typ: string }) => {
      const input = `${encode({ alg: 'ES256', kid: 'k1', typ: header.typ })}.${encode(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    },
  };
}

describe('CompactJws.verify', () => {
  it('checks a token\'s signature once, and answers again from memory while its key is published', async () => {
    const keys = signingKeys();
    const jws = new CompactJws(keys);
    const token = await jws.sign({ sub: 'a' }, 'at+jwt');
    const first = await jws.verify(token);
    expect(first).toMatchObject({ header: { kid: 'k1' }, payload: { sub: 'a' } });
    // Another key published under the same kid: only an answer from memory still accepts the token.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK;
    keys.state.jwks = { keys: [{ ...other, kid: 'k1', alg: 'ES256', use: 'sig' }] };
    expect(await jws.verify(token)).toStrictEqual(first);
    expect(await jws.verify(await jws.sign({ sub: 'b' }, 'at+jwt'))).toBeUndefined();
  });

  it('gives each caller its own copy of a remembered token\'s claims', async () => {
    const jws = new CompactJws(signingKeys());
    const token = await jws.sign({ sub: 'a' }, 'at+jwt');
    const first = await jws.verify(token);
    first!.payload.sub = 'changed';
    expect((await jws.verify(token))!.payload.sub).toBe('a');
  });

  it('refuses a token it verified before once its key is withdrawn', async () => {
    const keys = signingKeys();
    const jws = new CompactJws(keys);
    const token = await jws.sign({ sub: 'a' }, 'at+jwt');
    expect(await jws.verify(token)).toBeDefined();
    keys.state.jwks = { keys: [] };
    expect(await jws.verify(token)).toBeUndefined();
    keys.state.jwks = { keys: [keys.published] };
    expect(await jws.verify(token)).toBeDefined();
  });

  it('still refuses a token differing from a verified one only in its signature', async () => {
    const keys = signingKeys();
    const jws = new CompactJws(keys);
    const token = await jws.sign({ sub: 'a' }, 'at+jwt');
    expect(await jws.verify(token)).toBeDefined();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10]! ^= 1;
    expect(await jws.verify(`${header}.${payload}.${flipped.toString('base64url')}`)).toBeUndefined();
  });
});
