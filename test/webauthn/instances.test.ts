import { describe, expect, it } from 'vitest';
import { startWartaServer } from '../support/browser.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime, usingPostgres } from '../support/runtime.js';
import { browser, inviteTo, origin, TEST_ENV } from './ceremony.js';

// Two Warta instances behind one load balancer: two runtimes (own pools, own
// keys loaded from the database) on one PostgreSQL database. PGlite is one
// process's database, so there the two instances are two apps over one runtime.
const runtimeA = await createTestRuntime({ env: TEST_ENV });
const runtimeB = usingPostgres ? await createTestRuntime({ env: TEST_ENV, databaseUrl: runtimeA.databaseUrl!, clock: runtimeA.clock }) : runtimeA;
const serverA = await startWartaServer({ runtime: runtimeA });
const serverB = await startWartaServer({ runtime: runtimeB });

describe('ceremonies across two instances', () => {
  it('runs on two real HTTP servers sharing one database', () => {
    expect(serverA.port).not.toBe(serverB.port);
    expect(runtimeB === runtimeA).toBe(!usingPostgres);
  });

  it('finishes on B a registration started on A, then signs in across them, with nothing kept in memory', async () => {
    const invitation = await inviteTo(runtimeA);
    const onA = browser(runtimeA, { baseUrl: serverA.url });
    const onB = browser(runtimeB, { baseUrl: serverB.url, ip: onA.ip });

    const options = await onA.post('/api/webauthn/enrollment/options', { invitation: invitation.token });
    expect(options.status).toBe(200);
    const authenticator = new SoftAuthenticator();
    const credential = authenticator.createCredential(options.body as never, { origin: origin(runtimeA) });
    const enrolled = await onB.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);

    // Adding a passkey: options on A with B's session cookie, verified on B.
    onA.state.cookie = onB.state.cookie;
    const more = await onA.post('/api/webauthn/registration/options', {});
    expect(more.status).toBe(200);
    const second = new SoftAuthenticator();
    expect((await onB.post('/api/webauthn/registration/verify', { credential: second.createCredential(more.body as never, { origin: origin(runtimeA) }) })).status).toBe(201);

    // Sign-in: options on B, verified on A.
    const signInB = browser(runtimeB, { baseUrl: serverB.url });
    const signInA = browser(runtimeA, { baseUrl: serverA.url, ip: signInB.ip });
    const request = await signInB.post('/api/webauthn/authentication/options', {});
    const assertion = second.getAssertion(request.body as never, { origin: origin(runtimeA) });
    const signedIn = await signInA.post('/api/webauthn/authentication/verify', { credential: assertion });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body.user.id).toBe(enrolled.body.user.id);

    // The session made on A is valid on B.
    onB.state.cookie = signInA.state.cookie;
    expect((await onB.post('/api/webauthn/registration/options', {})).status).toBe(200);
  });
});
