import { createHmac, randomBytes } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { finishChallengeAuthentication } from '../../src/webauthn/authenticate.js';
import { openChallenge, sealChallenge, type SealedCeremony } from '../../src/webauthn/sealed-challenge.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, enroll, origin, type Reply, TEST_ENV } from './ceremony.js';

/**
 * Sign-in challenges are sealed, not stored (src/webauthn/sealed-challenge.ts): each
 * check on a seal, and single use in SQL, refuses what it must.
 */
const runtime = await createTestRuntime({ env: TEST_ENV });

const TTL_MS = runtime.config.webauthn.challengeTtlSeconds * 1000;
const count = async (table: 'sessions' | 'webauthn_challenges') => Number((await runtime.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const storedChallenge = (challenge: string) => runtime.db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', hashToken(challenge)).executeTakeFirst();

/** Answers `options` with `challenge` in its place: a genuine passkey signing whatever challenge it is given. */
async function answer(authenticator: Awaited<ReturnType<typeof enroll>>['authenticator'], options: PublicKeyCredentialRequestOptionsJSON, challenge: string): Promise<Reply> {
  const credential = authenticator.getAssertion({ ...options, challenge }, { origin: origin(runtime) });
  return browser(runtime).post('/api/webauthn/authentication/verify', { credential });
}

/** The refusal, and that it started no session and spent (stored) nothing. */
async function expectRefused(attempt: () => Promise<Reply>, status: number, code: string): Promise<void> {
  const before = [await count('sessions'), await count('webauthn_challenges')];
  const reply = await attempt();
  expect([reply.status, reply.body.error], JSON.stringify(reply.body)).toEqual([status, code]);
  expect([await count('sessions'), await count('webauthn_challenges')]).toEqual(before);
}

const seal = (ceremony: SealedCeremony, options: { key?: Uint8Array; userId?: string } = {}) =>
  sealChallenge(options.key ?? runtime.challengeSealKey, { ceremony, expiresAt: new Date(runtime.clock.now().getTime() + TTL_MS), userId: options.userId });

/** `challenge` with byte `index` changed by `mask`. */
function flipped(challenge: string, index: number, mask = 1): string {
  const bytes = Buffer.from(challenge, 'base64url');
  bytes[index]! ^= mask;
  return bytes.toString('base64url');
}

describe('sealed sign-in challenges', () => {
  it('are accepted as issued, and only then: the seal of a genuine answer signs in', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    expect((await answer(authenticator, options, seal('authentication'))).status).toBe(200);
  });

  it('refuse a seal whose MAC does not hold: a changed MAC, or an expiry, ceremony or account changed under it', async () => {
    const { authenticator, user } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    const genuine = seal('authentication');
    await expectRefused(() => answer(authenticator, options, flipped(genuine, 55)), 400, 'challenge_unknown');
    // The expiry's low byte is the last of bytes 2-7: one bit there is the expiry moved by a millisecond.
    await expectRefused(() => answer(authenticator, options, flipped(genuine, 7)), 400, 'challenge_unknown');
    // The app endpoint's seal relabelled as a browser sign-in's (ceremony byte 2 to 1).
    await expectRefused(() => answer(authenticator, options, flipped(seal('authorization_challenge'), 1, 3)), 400, 'challenge_unknown');
    // Someone else's bound seal turned into this account's (or none): the masked account is under the MAC too.
    await expectRefused(() => answer(authenticator, options, flipped(seal('authentication', { userId: user.id }), 24)), 400, 'challenge_unknown');
  });

  it('refuse a truncated, extended, random or other-version challenge', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    const genuine = seal('authentication');
    await expectRefused(() => answer(authenticator, options, genuine.slice(0, -4)), 400, 'challenge_unknown');
    await expectRefused(() => answer(authenticator, options, `${genuine}AAAA`), 400, 'challenge_unknown');
    await expectRefused(() => answer(authenticator, options, randomBytes(56).toString('base64url')), 400, 'challenge_unknown');
    await expectRefused(() => answer(authenticator, options, randomBytes(32).toString('base64url')), 400, 'challenge_unknown');
    // Version 2 with a MAC made by the right key: still not a seal this version reads.
    const bytes = Buffer.from(genuine, 'base64url');
    bytes[0] = 2;
    createHmac('sha256', runtime.challengeSealKey).update('warta sealed challenge mac\0').update(bytes.subarray(0, 40)).digest().copy(bytes, 40, 0, 16);
    await expectRefused(() => answer(authenticator, options, bytes.toString('base64url')), 400, 'challenge_unknown');
  });

  it('refuse a seal made with another key (another deployment, another master key)', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    await expectRefused(() => answer(authenticator, options, seal('authentication', { key: randomBytes(32) })), 400, 'challenge_unknown');
    const elsewhere = await createTestRuntime({ env: TEST_ENV });
    expect(elsewhere.challengeSealKey.equals(runtime.challengeSealKey)).toBe(false);
    await expectRefused(() => answer(authenticator, options, seal('authentication', { key: elsewhere.challengeSealKey })), 400, 'challenge_unknown');
  });

  it('refuse another sign-in ceremony’s seal, each way', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    await expectRefused(() => answer(authenticator, options, seal('authorization_challenge')), 400, 'challenge_foreign');

    // The app's endpoint checks the auth_session's challenge hash first; here it matches, so the seal's ceremony is what refuses.
    const challenge = seal('authentication');
    const credential = authenticator.getAssertion({ ...options, challenge }, { origin: origin(runtime) });
    const sessions = await count('sessions');
    await expect(finishChallengeAuthentication(runtime, { context: { actor: 'anonymous', ip: '10.9.9.9' }, previousSession: undefined }, { credential, challengeHash: hashToken(challenge) })).rejects.toMatchObject({
      status: 400,
      code: 'challenge_foreign',
    });
    expect(await count('sessions')).toBe(sessions);
  });

  it('refuse a seal at the moment it expires, and accept it the millisecond before', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    const late = seal('authentication');
    const inTime = seal('authentication');
    runtime.clock.advance(TTL_MS / 1000 - 0.001);
    expect((await answer(authenticator, options, inTime)).status).toBe(200);
    runtime.clock.advance(0.001);
    await expectRefused(() => answer(authenticator, options, late), 400, 'challenge_expired');
  });

  it('are spent once: a replay, or a non-canonical spelling of the same seal, is refused as used or unknown', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    expect((await answer(authenticator, options, options.challenge)).status).toBe(200);
    expect(await storedChallenge(options.challenge)).toMatchObject({ ceremony: 'authentication', used_at: runtime.clock.now() });
    await expectRefused(() => answer(authenticator, options, options.challenge), 400, 'challenge_used');
    // 56 bytes are 75 characters with two bits to spare in the last: another last character decodes to the same seal.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = options.challenge.slice(0, -1) + alphabet[alphabet.indexOf(options.challenge.at(-1)!) + 1];
    expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(options.challenge, 'base64url'));
    await expectRefused(() => answer(authenticator, options, respelled), 400, 'challenge_unknown');
  });

  it('spend a username-first seal answered by another account’s passkey: the right passkey is refused afterwards', async () => {
    const alice = await enroll(runtime);
    const bob = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime), alice.user.username);
    const refused = await answer(bob.authenticator, { ...options, allowCredentials: [] }, options.challenge);
    expect([refused.status, refused.body.error]).toEqual([401, 'credential_not_allowed']);
    expect(await storedChallenge(options.challenge)).toMatchObject({ user_id: alice.user.id, used_at: runtime.clock.now() });
    await expectRefused(() => answer(alice.authenticator, options, options.challenge), 400, 'challenge_used');
  });

  it('spend the seal of an account deleted since the options without a 500', async () => {
    const { authenticator, user } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime), user.username);
    // Warta itself never deletes an account; an operator's SQL might.
    await runtime.db.deleteFrom('invitations').where('redeemed_by', '=', user.id).execute();
    await runtime.db.deleteFrom('users').where('id', '=', user.id).execute();
    const reply = await answer(authenticator, options, options.challenge);
    expect([reply.status, reply.body.error]).toEqual([401, 'credential_unknown']);
    expect(await storedChallenge(options.challenge)).toMatchObject({ user_id: null, used_at: runtime.clock.now() });
  });

  it('open to what they were issued with', () => {
    const expiresAt = new Date(runtime.clock.now().getTime() + TTL_MS);
    const userId = '0b7e6a57-3c1d-4e8f-9a2b-5c6d7e8f9a0b';
    expect(openChallenge(runtime.challengeSealKey, sealChallenge(runtime.challengeSealKey, { ceremony: 'authorization_challenge', expiresAt, userId }))).toEqual({ ceremony: 'authorization_challenge', expiresAt, userId });
    expect(openChallenge(runtime.challengeSealKey, sealChallenge(runtime.challengeSealKey, { ceremony: 'authentication', expiresAt }))).toEqual({ ceremony: 'authentication', expiresAt, userId: null });
  });
});
