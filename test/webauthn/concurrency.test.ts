import { describe, expect, it } from 'vitest';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, enroll, origin, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const statuses = (replies: { status: number; body: Record<string, unknown> }[]) => replies.map((r) => `${r.status} ${r.status >= 400 ? r.body.error : ''}`.trim()).sort();

describe('one challenge answered several times at once', () => {
  it('signs in exactly once', async () => {
    const { authenticator, user } = await enroll(runtime);
    const before = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
    const client = browser(runtime);
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: origin(runtime) });
    const replies = await Promise.all(Array.from({ length: 4 }, () => browser(runtime).post('/api/webauthn/authentication/verify', { credential })));
    expect(statuses(replies)).toEqual(['200', '400 challenge_used', '400 challenge_used', '400 challenge_used']);
    const after = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
    expect(after.length - before.length).toBe(1);
  });

  it('signs in exactly once with a passkey that does not count (counter 0), where only the spent challenge stops the others', async () => {
    const { authenticator, user } = await enroll(runtime);
    const sessions = async () => (await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).length;
    const signIns = async () => (await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'signin.succeeded').where('subject', '=', `user:${user.id}`).execute()).length;
    const [sessionsBefore, signInsBefore] = [await sessions(), await signIns()];
    const credential = authenticator.getAssertion(await authenticationOptions(browser(runtime)), { origin: origin(runtime), overrides: { signCount: 0 } });
    const replies = await Promise.all(Array.from({ length: 4 }, () => browser(runtime).post('/api/webauthn/authentication/verify', { credential })));
    expect(statuses(replies)).toEqual(['200', '400 challenge_used', '400 challenge_used', '400 challenge_used']);
    expect(await sessions()).toBe(sessionsBefore + 1);
    expect(await signIns()).toBe(signInsBefore + 1);
  });

  it('registers exactly once', async () => {
    const { client, user } = await enroll(runtime);
    const options = (await client.post('/api/webauthn/registration/options', {})).body;
    const credential = new SoftAuthenticator().createCredential(options as never, { origin: origin(runtime) });
    const replies = await Promise.all([client.post('/api/webauthn/registration/verify', { credential }), client.post('/api/webauthn/registration/verify', { credential })]);
    expect(statuses(replies)).toEqual(['201', '400 challenge_used']);
    expect(await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', user.id).execute()).toHaveLength(2);
  });

  it('re-authenticates exactly once', async () => {
    const { client, authenticator, user } = await enroll(runtime);
    const options = (await client.post('/api/webauthn/reauthentication/options', {})).body;
    const credential = authenticator.getAssertion(options as never, { origin: origin(runtime) });
    const replies = await Promise.all([client.post('/api/webauthn/reauthentication/verify', { credential }), client.post('/api/webauthn/reauthentication/verify', { credential })]);
    expect(statuses(replies)).toEqual(['200', '400 challenge_used']);
    const audits = await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'session.reauthenticated').where('subject', '=', `user:${user.id}`).execute();
    expect(audits).toHaveLength(1);
  });
});
