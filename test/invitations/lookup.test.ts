/** The enrollment page learns from the invitation which ways its person may enrol, and offers each, the passkey first. */
import { describe, expect, it } from 'vitest';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { createTestRuntime, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime();
const { request } = testClient(runtime);

async function methodsFor(policy: Record<string, unknown>, role: 'member' | 'recovery_officer' | 'admin') {
  const org = await createOrganisation(runtime, { actor: 'test' }, { name: `Lookup ${Math.random().toString(36).slice(2, 8)}`, policy });
  const { token } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Jan', email: `jan.${Math.random().toString(36).slice(2, 8)}@example.gov`, role });
  const reply = await request('/api/invitations/lookup', { method: 'POST', json: { token } });
  expect(reply.status).toBe(200);
  return ((await reply.json()) as { methods: string[] }).methods;
}

describe('the ways an invitation may be used', () => {
  it('offers a member a password with an authenticator app besides the passkey, where the organisation allows it', async () => {
    expect(await methodsFor({}, 'member')).toEqual(['passkey', 'password']);
  });

  it('offers only a passkey to a role that must use one, and in an organisation without passwords or authenticator apps', async () => {
    expect(await methodsFor({}, 'admin')).toEqual(['passkey']);
    expect(await methodsFor({ allowPasswords: false }, 'member')).toEqual(['passkey']);
    expect(await methodsFor({ allowTotp: false }, 'member')).toEqual(['passkey']);
  });
});
