/**
 * The operator's signing keys over the operator API: the list shows each key's
 * state and times and never key material; the planned rotation publishes the new
 * key before it signs, keeps the old one published until its tokens expire, and
 * is audited. Only an operator with a fresh passkey reaches either.
 */
import { describe, expect, it } from 'vitest';
import { listSigningKeysCommand, rotateSigningKeyCommand } from '../../src/cli/commands/keys.js';
import type { Runtime } from '../../src/runtime.js';
import { incidentServer, refusals } from './support.js';

const { server, runtime, operator, admin, letOperatorGoStale } = await incidentServer();
const cli = { runtime: async () => runtime as Runtime, write: () => {} };

const publishedKids = async () => ((await (await fetch(server.url('/.well-known/jwks.json'))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const keyRows = () => runtime.db.selectFrom('signing_keys').select(['kid', 'retire_at', 'withdrawn_at']).orderBy('created_at').execute();
const rotate = (who: typeof operator, body: Record<string, unknown> = { reason: 'yearly rotation' }) => who.client.post('/api/operator/signing-keys/rotate', body);
type Key = { kid: string; state: string; active_from: string; retire_at: string | null };

describe('the operator’s signing keys', () => {
  it('lists each key with its state and times, and no key material', async () => {
    const reply = await operator.client.get('/api/operator/signing-keys');
    expect(reply.status).toBe(200);
    const keys = (reply.body as { keys: Key[] }).keys;
    expect(keys.map((k) => k.state)).toContain('signing');
    expect(Object.keys(keys[0]!).sort()).toEqual(['active_from', 'alg', 'created_at', 'kid', 'retire_at', 'state', 'withdrawn_at']);
    const stored = await runtime.db.selectFrom('signing_keys').select(['public_jwk', 'private_jwk_enc']).execute();
    const text = JSON.stringify(reply.body);
    for (const row of stored) {
      expect(text).not.toContain(row.private_jwk_enc);
      expect(text).not.toContain((row.public_jwk as { x: string }).x);
    }
    expect((await listSigningKeysCommand.run({}, cli)).keys).toEqual(keys);
  });

  it('is refused to an admin without the operator role and to a stale operator, audited, the keys unchanged', async () => {
    const before = await keyRows();
    expect((await admin.client.get('/api/operator/signing-keys')).status).toBe(403);
    const byAdmin = await rotate(admin);
    expect(byAdmin.status).toBe(403);
    expect((await refusals(runtime, admin.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'forbidden' } });
    const renew = await letOperatorGoStale();
    const stale = await rotate(operator);
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect(await keyRows()).toEqual(before);
    await renew();
  });

  it('refuses a rotation without a reason, rotating nothing', async () => {
    const before = await keyRows();
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(501) }]) {
      const reply = await rotate(operator, body);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_reason');
    }
    expect(await keyRows()).toEqual(before);
  });

  it('rotates as planned: the new key is published at once and signs only after the cache lifetime; the old one stays published; audited', async () => {
    const oldKid = (await runtime.signingKeys.activeKey()).kid;
    const reply = await rotate(operator);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const rotation = reply.body as { kid: string; active_from: string; retiring: { kid: string; unpublished_at: string }[] };
    expect(rotation.retiring.map((r) => r.kid)).toEqual([oldKid]);
    expect(new Date(rotation.active_from).getTime()).toBe(runtime.clock.now().getTime() + runtime.config.signingKeys.cacheSeconds * 1000);

    expect(await publishedKids()).toEqual(expect.arrayContaining([rotation.kid, oldKid]));
    expect((await runtime.signingKeys.activeKey()).kid).toBe(oldKid);
    const listed = ((await operator.client.get('/api/operator/signing-keys')).body as { keys: Key[] }).keys;
    expect(listed.find((k) => k.kid === rotation.kid)?.state).toBe('published');
    expect(listed.find((k) => k.kid === oldKid)).toMatchObject({ state: 'signing', retire_at: rotation.retiring[0]!.unpublished_at });

    const [entry] = await runtime.db.selectFrom('audit_log').select(['actor', 'outcome', 'details']).where('action', '=', 'signing_key.rotated').where('subject', '=', `key:${rotation.kid}`).execute();
    expect(entry).toMatchObject({ actor: `user:${operator.user.id}`, outcome: 'success', details: { reason: 'yearly rotation', retired: [oldKid] } });

    runtime.clock.advance(runtime.config.signingKeys.cacheSeconds + 1);
    runtime.signingKeys.invalidate();
    expect((await runtime.signingKeys.activeKey()).kid).toBe(rotation.kid);
    const after = ((await operator.client.get('/api/operator/signing-keys')).body as { keys: Key[] }).keys;
    expect(after.find((k) => k.kid === oldKid)?.state).toBe('retiring');
  });

  it('rotates from the command line too, with an optional reason, audited as the command line’s', async () => {
    const rotated = await rotateSigningKeyCommand.run({ reason: 'new HSM policy' }, cli);
    expect(rotated).toMatchObject({ emergency: false, kid: expect.any(String) });
    const [entry] = await runtime.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', 'signing_key.rotated').where('subject', '=', `key:${rotated.kid}`).execute();
    expect(entry).toMatchObject({ actor: 'cli', details: { reason: 'new HSM policy' } });
  });
});
