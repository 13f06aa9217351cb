import { randomBytes } from 'node:crypto';
import { decodeCbor as decode, encodeCbor, type CborValue } from '../support/cbor.js';
import { describe, expect, it } from 'vitest';
import { type AssertionOverrides, type RegistrationOverrides, SoftAuthenticator } from '../support/soft-authenticator.js';
import { anonymousFailureCount } from '../support/anonymous-failures.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, type Browser, enroll, enrollmentOptions, inviteTo, lastAudit, origin, type Reply, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

async function rowCounts() {
  const count = async (table: 'webauthn_credentials' | 'sessions' | 'users') => Number((await runtime.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { credentials: await count('webauthn_credentials'), sessions: await count('sessions'), users: await count('users') };
}

/** Runs `attempt` and checks the refusal: the status and code, and that no credential, session or user was written. */
async function expectRefused(attempt: () => Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await rowCounts();
  const reply = await attempt();
  expect(reply.body.error, JSON.stringify(reply.body)).toBe(code);
  expect(reply.status).toBe(status);
  expect(await rowCounts()).toEqual(before);
  return reply;
}

async function enrollmentAttempt(overrides: RegistrationOverrides, options: { token?: string; origin?: string } = {}) {
  const invitation = await inviteTo(runtime);
  const client = browser(runtime);
  const creation = await enrollmentOptions(client, invitation.token);
  const credential = new SoftAuthenticator().createCredential(creation, { origin: options.origin ?? origin(runtime), overrides });
  return { invitation, client, verify: () => client.post('/api/webauthn/enrollment/verify', { invitation: options.token ?? invitation.token, credential }) };
}

let signedUp: { authenticator: SoftAuthenticator; user: { id: string } } | undefined;
async function enrolled() {
  signedUp ??= await enroll(runtime);
  return signedUp;
}

async function signInAttempt(overrides: AssertionOverrides, options: { origin?: string; client?: Browser } = {}) {
  const { authenticator } = await enrolled();
  const client = options.client ?? browser(runtime);
  const request = await authenticationOptions(client);
  const credential = authenticator.getAssertion(request, { origin: options.origin ?? origin(runtime), overrides });
  return () => client.post('/api/webauthn/authentication/verify', { credential });
}

describe('bad registration responses', () => {
  it('refuses a response made for another origin (a phishing page) and audits it', async () => {
    const { verify, invitation } = await enrollmentAttempt({}, { origin: 'https://warta-support.example' });
    await expectRefused(verify, 400, 'origin_mismatch');
    expect(await lastAudit(runtime, 'passkey.registration_failed')).toMatchObject({ subject: `invitation:${invitation.invitation.id}`, outcome: 'failure', details: { reason: 'origin_mismatch' } });
  });

  it('compares origins exactly: another port or scheme is another origin', async () => {
    await expectRefused((await enrollmentAttempt({}, { origin: 'http://localhost:3001' })).verify, 400, 'origin_mismatch');
    await expectRefused((await enrollmentAttempt({}, { origin: 'https://localhost:3000' })).verify, 400, 'origin_mismatch');
  });

  it('refuses a ceremony run inside another site’s frame', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const creation = await enrollmentOptions(client, invitation.token);
    const credential = new SoftAuthenticator().createCredential(creation, { origin: origin(runtime), topOrigin: 'https://evil.example' });
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential }), 400, 'origin_mismatch');
  });

  it('refuses authenticator data for another RP ID', async () => {
    await expectRefused((await enrollmentAttempt({ rpIdHashOf: 'evil.example' })).verify, 400, 'rp_id_mismatch');
  });

  it('refuses a passkey created without user verification', async () => {
    await expectRefused((await enrollmentAttempt({ userVerified: false })).verify, 400, 'user_verification_required');
  });

  it('refuses a passkey created without user presence', async () => {
    await expectRefused((await enrollmentAttempt({ userPresent: false })).verify, 400, 'user_presence_required');
  });

  it('refuses an assertion sent as a registration', async () => {
    await expectRefused((await enrollmentAttempt({ type: 'webauthn.get' })).verify, 400, 'ceremony_type_mismatch');
  });

  it('refuses malformed CBOR in the attestation object', async () => {
    await expectRefused((await enrollmentAttempt({ garbageAttestationObject: true })).verify, 400, 'malformed_response');
  });

  it('refuses an expired challenge', async () => {
    const attempt = await enrollmentAttempt({});
    runtime.clock.advance(301);
    await expectRefused(attempt.verify, 400, 'challenge_expired');
  });

  it('refuses a reused challenge', async () => {
    const attempt = await enrollmentAttempt({ userVerified: false });
    await expectRefused(attempt.verify, 400, 'user_verification_required');
    await expectRefused(attempt.verify, 400, 'challenge_used');
  });

  it('refuses a challenge Warta never issued', async () => {
    await expectRefused((await enrollmentAttempt({ challenge: randomBytes(32).toString('base64url') })).verify, 400, 'challenge_unknown');
  });

  it('refuses a challenge issued for a sign-in', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const creation = await enrollmentOptions(client, invitation.token);
    const signInChallenge = (await authenticationOptions(client)).challenge;
    const credential = new SoftAuthenticator().createCredential({ ...creation, challenge: signInChallenge }, { origin: origin(runtime) });
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential }), 400, 'challenge_foreign');
  });

  it('refuses a body without a credential, or with one of the wrong shape', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token }), 400, 'invalid_request');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: 'x' }), 400, 'invalid_request');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: { id: 'abc', rawId: 'abd', type: 'public-key', response: {} } }), 400, 'malformed_response');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'not json!', attestationObject: 'AA' } } }), 400, 'malformed_response');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: Buffer.from('{"type":1}').toString('base64url'), attestationObject: 'AA' } } }), 400, 'malformed_response');
  });

  it('refuses a credential whose id is not the one in the attestation', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const credential = new SoftAuthenticator().createCredential(await enrollmentOptions(client, invitation.token), { origin: origin(runtime) });
    const other = randomBytes(32).toString('base64url');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: { ...credential, id: other, rawId: other } }), 400, 'malformed_response');
  });

  it('refuses a credential ID longer than 1023 bytes', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const credential = new SoftAuthenticator().createCredential(await enrollmentOptions(client, invitation.token), { origin: origin(runtime) });
    // authData = rpIdHash(32) flags(1) signCount(4) aaguid(16) idLength(2) id publicKey; fmt "none" signs none of it.
    const object = decode(Buffer.from(credential.response.attestationObject, 'base64url')) as { fmt: string; attStmt: object; authData: Uint8Array };
    const authData = Buffer.from(object.authData);
    const idLength = authData.readUInt16BE(53);
    const longId = randomBytes(1024);
    const longAuthData = Buffer.concat([authData.subarray(0, 53), Buffer.from([4, 0]), longId, authData.subarray(55 + idLength)]);
    const attestationObject = Buffer.from(encodeCbor({ ...object, authData: longAuthData } as CborValue)).toString('base64url');
    const id = longId.toString('base64url');
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: { ...credential, id, rawId: id, response: { ...credential.response, attestationObject } } }), 400, 'malformed_response');
  });

  it('refuses a credential ID that is already registered', async () => {
    const first = await enroll(runtime);
    // fmt "none" signs nothing over clientDataJSON, so the same credential can be presented again with a new challenge.
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const creation = await enrollmentOptions(client, invitation.token);
    const clientData = JSON.parse(Buffer.from(first.credential.response.clientDataJSON, 'base64url').toString());
    const replayed = { ...first.credential, response: { ...first.credential.response, clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, challenge: creation.challenge })).toString('base64url') } };
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: replayed }), 409, 'credential_exists');
  });

  it('refuses a passkey name longer than 64 characters before touching the challenge', async () => {
    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const creation = await enrollmentOptions(client, invitation.token);
    const good = new SoftAuthenticator().createCredential(creation, { origin: origin(runtime) });
    await expectRefused(() => client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: good, name: 'x'.repeat(65) }), 400, 'invalid_request');
    expect((await client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: good, name: 'Desk key' })).status).toBe(201);
  });
});

describe('bad sign-in responses', () => {
  it('refuses a response made for another origin and counts it for the audit log', async () => {
    const before = await anonymousFailureCount(runtime, 'signin.failed', 'passkey:origin_mismatch');
    await expectRefused(await signInAttempt({}, { origin: 'https://warta-support.example' }), 400, 'origin_mismatch');
    // Refused before the passkey named an account: anonymous, so counted into the audit window (src/audit/anonymous-failures.ts).
    expect(await anonymousFailureCount(runtime, 'signin.failed', 'passkey:origin_mismatch')).toBe(before + 1);
  });

  it('refuses authenticator data for another RP ID', async () => {
    await expectRefused(await signInAttempt({ rpIdHashOf: 'evil.example' }), 400, 'rp_id_mismatch');
  });

  it('refuses an assertion without user verification', async () => {
    await expectRefused(await signInAttempt({ userVerified: false }), 400, 'user_verification_required');
  });

  it('refuses an assertion without user presence', async () => {
    await expectRefused(await signInAttempt({ userPresent: false }), 400, 'user_presence_required');
  });

  it('refuses a bad signature', async () => {
    await expectRefused(await signInAttempt({ corruptSignature: true }), 401, 'signature_invalid');
  });

  it('refuses a registration sent as an assertion', async () => {
    await expectRefused(await signInAttempt({ type: 'webauthn.create' }), 400, 'ceremony_type_mismatch');
  });

  it('refuses an expired, a reused, an unknown and a foreign challenge', async () => {
    const expired = await signInAttempt({});
    runtime.clock.advance(301);
    await expectRefused(expired, 400, 'challenge_expired');

    const reused = await signInAttempt({});
    expect((await reused()).status).toBe(200);
    await expectRefused(reused, 400, 'challenge_used');

    await expectRefused(await signInAttempt({ challenge: randomBytes(32).toString('base64url') }), 400, 'challenge_unknown');

    const invitation = await inviteTo(runtime);
    const client = browser(runtime);
    const enrollmentChallenge = (await enrollmentOptions(client, invitation.token)).challenge;
    await expectRefused(await signInAttempt({ challenge: enrollmentChallenge }, { client }), 400, 'challenge_foreign');
  });

  it('refuses an unknown credential', async () => {
    const stranger = new SoftAuthenticator();
    stranger.createCredential(await enrollmentOptions(browser(runtime), (await inviteTo(runtime)).token), { origin: origin(runtime) });
    const client = browser(runtime);
    const credential = stranger.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential }), 401, 'credential_unknown');
  });

  it('judges the challenge before the credential: an unknown passkey answering an unknown challenge is refused for the challenge', async () => {
    const stranger = new SoftAuthenticator();
    stranger.createCredential(await enrollmentOptions(browser(runtime), (await inviteTo(runtime)).token), { origin: origin(runtime) });
    const client = browser(runtime);
    const credential = stranger.getAssertion(await authenticationOptions(client), { origin: origin(runtime), overrides: { challenge: randomBytes(32).toString('base64url') } });
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential }), 400, 'challenge_unknown');
  });

  it('refuses a removed credential', async () => {
    const { authenticator, user } = await enroll(runtime);
    await runtime.db.updateTable('webauthn_credentials').set({ revoked_at: runtime.clock.now() }).where('user_id', '=', user.id).execute();
    const client = browser(runtime);
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential }), 401, 'credential_revoked');
  });

  it('refuses a usernameless assertion without a user handle', async () => {
    const { authenticator } = await enroll(runtime);
    const client = browser(runtime);
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    delete (credential.response as { userHandle?: string }).userHandle;
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential }), 400, 'user_handle_missing');
  });

  it('refuses a user handle that is not the credential owner’s', async () => {
    const { authenticator } = await enroll(runtime);
    const client = browser(runtime);
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    credential.response.userHandle = randomBytes(32).toString('base64url');
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential }), 401, 'user_handle_mismatch');
  });

  it('refuses malformed authenticator data and signatures', async () => {
    const { authenticator } = await enroll(runtime);
    const client = browser(runtime);
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    const truncated = { ...credential, response: { ...credential.response, authenticatorData: credential.response.authenticatorData.slice(0, 20) } };
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential: truncated }), 400, 'malformed_response');
  });
});

describe('malformed requests', () => {
  const client = browser(runtime);

  it('answers a body that is not JSON with 400 invalid_request', async () => {
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', '{"credential":'), 400, 'invalid_request');
    await expectRefused(() => client.post('/api/webauthn/enrollment/options', '[]'), 400, 'invalid_request');
  });

  it('answers a body that is not declared JSON with 415', async () => {
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', 'credential=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });

  it('answers an oversized body with 413 before reading it', async () => {
    await expectRefused(() => client.post('/api/webauthn/authentication/verify', { credential: { id: 'A'.repeat(70 * 1024) } }), 413, 'request_too_large');
  });

  it('answers a field of the wrong type with 400', async () => {
    await expectRefused(() => client.post('/api/webauthn/enrollment/options', { invitation: 42 }), 400, 'invalid_request');
    await expectRefused(() => client.post('/api/webauthn/authentication/options', { username: ['a'] }), 400, 'invalid_request');
  });

  it('refuses a state-changing request from another site', async () => {
    await expectRefused(() => client.post('/api/webauthn/authentication/options', {}, { origin: 'https://evil.example' }), 403, 'cross_origin_request');
  });
});
