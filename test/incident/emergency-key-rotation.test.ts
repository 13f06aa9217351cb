/**
 * Emergency signing-key rotation: the old key is withdrawn at once (gone from
 * the JWKS, its tokens refused by Warta), a new key signs at once, and every
 * event receiver of every organisation is told by a SET, over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { CliUsageError } from '../../src/cli/command.js';
import { listSigningKeysCommand, rotateSigningKeyCommand } from '../../src/cli/commands/keys.js';
import { deliverPendingEvents } from '../../src/events/deliver.js';
import { addReceiver } from '../../src/events/receivers.js';
import { EVENT_TYPE_URIS } from '../../src/events/types.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { registerWebClient } from '../oidc/support.js';
import { startReceiver } from '../support/receiver-server.js';
import { createTestUser } from '../support/runtime.js';
import { incidentServer, oidcCalls, refusals, registerServiceClient, RESOURCE_AUDIENCE, signInTo } from './support.js';

const { server, runtime, operator, admin, letOperatorGoStale } = await incidentServer();
const cli = { runtime: async () => runtime as Runtime, write: () => {} };
const call = oidcCalls(server, await registerServiceClient(runtime));
const portal = await registerWebClient(runtime, { access_token_audience: RESOURCE_AUDIENCE });

const publishedKids = async () => ((await (await fetch(server.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const rotate = (reason = 'signing key found in a leaked backup') => operator.client.post('/api/operator/signing-keys/emergency-rotation', { reason });
const keyRows = () => runtime.db.selectFrom('signing_keys').select(['kid', 'retire_at', 'withdrawn_at']).orderBy('created_at').execute();

describe('emergency signing-key rotation', () => {
  it('is refused to an admin without the operator role, and to a stale operator: 403, audited, the keys unchanged', async () => {
    const before = await keyRows();
    const byAdmin = await admin.client.post('/api/operator/signing-keys/emergency-rotation', { reason: 'x' });
    expect(byAdmin.status).toBe(403);
    expect((await refusals(runtime, admin.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'forbidden' } });
    const renew = await letOperatorGoStale();
    const stale = await rotate();
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await refusals(runtime, operator.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'reauthentication_required' } });
    expect(await keyRows()).toEqual(before);
    await renew();
  });

  it('from the operator API: the old key leaves the JWKS, its tokens are refused, the new key signs, and every receiver gets a SET', async () => {
    const [first, second] = [
      await createOrganisation(runtime, { actor: 'test' }, { name: `Org A ${randomBytes(3).toString('hex')}` }),
      await createOrganisation(runtime, { actor: 'test' }, { name: `Org B ${randomBytes(3).toString('hex')}` }),
    ];
    const receiverServer = await startReceiver();
    await addReceiver(runtime, { actor: 'test' }, { organisationId: first!.id, url: receiverServer.url, audience: 'siem-a' });
    // Subscribed to something else: a withdrawn key concerns it all the same.
    await addReceiver(runtime, { actor: 'test' }, { organisationId: second!.id, url: receiverServer.url, audience: 'siem-b', events: ['device_linked'] });
    await deliverPendingEvents(runtime);
    receiverServer.received.length = 0;

    const signedIn = await signInTo(server, portal, await createTestUser(runtime, { organisationId: first!.id }));
    const oldKid = kidOf(signedIn.access_token);
    expect(await publishedKids()).toContain(oldKid);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(200);

    const rotated = await rotate();
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body).toMatchObject({ kid: expect.any(String), withdrawn: [oldKid] });
    expect(rotated.body.sets_queued).toBeGreaterThanOrEqual(2);
    const newKid = rotated.body.kid as string;

    expect(await publishedKids()).toEqual([newKid]);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect(await call.introspect(signedIn.access_token)).toEqual({ active: false });
    // The grant itself was not compromised: refreshing gives tokens signed by the new key.
    const refreshed = await call.refresh(portal, signedIn.refresh_token);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(kidOf(refreshed.body.access_token as string)).toBe(newKid);
    expect((await call.userinfo(refreshed.body.access_token as string)).status).toBe(200);

    const uri = EVENT_TYPE_URIS.signing_key_withdrawn;
    expect(uri).toBe('urn:warta:secevent:signing-key-withdrawn');
    await deliverPendingEvents(runtime);
    const sets = receiverServer.received.filter((set) => uri in ((set.claims.events as Record<string, unknown> | undefined) ?? {}));
    expect(sets.map((set) => set.claims.aud).sort()).toEqual(['siem-a', 'siem-b']);
    for (const set of sets) {
      expect(kidOf(set.token)).toBe(newKid);
      expect(set.claims.sub_id).toEqual({ format: 'uri', uri: server.url('/.well-known/jwks.json') });
      expect((set.claims.events as Record<string, Record<string, unknown>>)[uri]).toMatchObject({ withdrawn_kids: [oldKid], signing_kid: newKid, jwks_uri: server.url('/.well-known/jwks.json'), initiating_entity: 'admin' });
    }

    expect((await keyRows()).find((k) => k.kid === oldKid)).toMatchObject({ withdrawn_at: expect.any(Date) });
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'signing_key.withdrawn').where('subject', '=', `key:${newKid}`).execute();
    expect(audit).toEqual([expect.objectContaining({ actor: `user:${operator.user.id}`, details: expect.objectContaining({ reason: 'signing key found in a leaked backup', withdrawn: [oldKid] }) })]);
  });

  it('from the CLI: `keys rotate --emergency` withdraws the key at once and queues the SETs; it needs a reason', async () => {
    await expect(rotateSigningKeyCommand.run({ emergency: true }, cli)).rejects.toBeInstanceOf(CliUsageError);
    await expect(rotateSigningKeyCommand.run({ emergency: true, reason: 'x', 'publish-ahead-seconds': '0' }, cli)).rejects.toBeInstanceOf(CliUsageError);
    const signedIn = await signInTo(server, portal, await createTestUser(runtime));
    const oldKid = kidOf(signedIn.access_token);
    const result = await rotateSigningKeyCommand.run({ emergency: true, reason: 'incident 9' }, cli);
    if (!result.emergency) throw new Error('expected an emergency rotation');
    expect(result.withdrawn).toEqual([oldKid]);
    expect(await publishedKids()).toEqual([result.kid]);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    const queued = await runtime.db
      .selectFrom('set_outbox as o')
      .innerJoin('security_events as e', 'e.id', 'o.event_id')
      .select(['o.user_id', 'o.status'])
      .where('e.type', '=', 'signing_key_withdrawn')
      .where(sql<boolean>`e.details @> ${JSON.stringify({ signingKid: result.kid })}::jsonb`)
      .execute();
    expect(queued.length).toBe(result.sets_queued);
    expect(queued.length).toBeGreaterThanOrEqual(2);
    expect(queued.every((row) => row.user_id === null && row.status === 'pending')).toBe(true);
    expect((await runtime.db.selectFrom('audit_log').select('actor').where('action', '=', 'signing_key.withdrawn').where('subject', '=', `key:${result.kid}`).execute())).toEqual([{ actor: 'cli' }]);
    const listed = await listSigningKeysCommand.run({}, cli);
    expect(listed.keys.find((k) => k.kid === oldKid)?.state).toBe('withdrawn');
  });
});
