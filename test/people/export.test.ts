/**
 * The subject-access export: every section of what Warta holds about a person,
 * nothing secret and no hash of anything secret, another organisation's person
 * 404 with nothing on record, and every export audited. Then the operator's CLI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineAttribute, setAttribute } from '../../src/attributes/service.js';
import { exportPersonCommand } from '../../src/cli/commands/people.js';
import { addGroupMember, createGroup } from '../../src/groups/service.js';
import { PERSON_EXPORT_FORMAT } from '../../src/people/export.js';
import { auditOf, cli, peopleServer } from './support.js';

const { runtime, enroll, organisation, admin, otherAdmin } = await peopleServer();
const person = await enroll(organisation.id, 'member');
const subject = `user:${person.user.id}`;

// Secret material the person holds, placed where the export could leak it.
const TOTP_SECRET_ENC = `sealed-totp-${randomBytes(12).toString('hex')}`;
const PASSWORD_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
const RECOVERY_CODE_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
const RECOVERY_GRANT_HASH = randomBytes(32).toString('hex');
const now = runtime.clock.now();
await runtime.db.insertInto('password_credentials').values({ user_id: person.user.id, hash: PASSWORD_HASH, created_at: now, updated_at: now }).execute();
await runtime.db.insertInto('totp_credentials').values({ id: crypto.randomUUID(), user_id: person.user.id, secret_enc: TOTP_SECRET_ENC, algorithm: 'SHA1', digits: 6, period: 30, last_used_step: null, created_at: now, last_used_at: null }).execute();
await runtime.db
  .insertInto('recovery_cases')
  .values({
    id: crypto.randomUUID(),
    organisation_id: organisation.id,
    user_id: person.user.id,
    status: 'completed',
    reason: 'lost phone',
    document_type: 'id_card',
    document_last4: '1234',
    identity_note: 'photo matches',
    opened_by: admin.user.id,
    opened_desk: 'desk 1',
    opened_at: now,
    expires_at: now,
    approved_by: null,
    approved_desk: null,
    approved_at: null,
    code_hash: RECOVERY_CODE_HASH,
    code_expires_at: now,
    code_max_attempts: 5,
    redeemed_at: now,
    grant_hash: RECOVERY_GRANT_HASH,
    grant_expires_at: now,
    closed_at: now,
    closed_by: admin.user.id,
    closed_desk: 'desk 1',
    close_reason: 'completed',
  })
  .execute();

await runtime.db.insertInto('security_events').values({ id: crypto.randomUUID(), organisation_id: organisation.id, user_id: person.user.id, type: 'credential_change', details: '{}', initiating_entity: 'user', txn: null, ip: '192.0.2.44', occurred_at: now }).execute();

// Groups and attributes the organisation keeps about the person.
const ministry = await createGroup(runtime, { actor: 'test' }, { organisationId: organisation.id, name: 'Export Ministry' });
const unit = await createGroup(runtime, { actor: 'test' }, { organisationId: organisation.id, name: 'Unit', parentId: ministry.id });
await createGroup(runtime, { actor: 'test' }, { organisationId: organisation.id, name: 'Not Theirs' });
await addGroupMember(runtime, { actor: 'test' }, { actor: { kind: 'cli' }, organisationId: organisation.id, groupId: unit.id, userId: person.user.id });
await defineAttribute(runtime, { actor: 'test' }, { organisationId: organisation.id, name: 'clearance_level', type: 'enum', allowedValues: ['restricted', 'secret'] });
await setAttribute(runtime, { actor: 'test' }, { actor: { kind: 'cli' }, organisationId: organisation.id, userId: person.user.id, name: 'clearance_level', value: 'secret' });

async function secretMaterial(): Promise<string[]> {
  const { db } = runtime;
  const sessions = await db.selectFrom('sessions').select('token_hash').where('user_id', '=', person.user.id).execute();
  const invitations = await db.selectFrom('invitations').select('token_hash').where('redeemed_by', '=', person.user.id).execute();
  const passkeys = await db.selectFrom('webauthn_credentials').select(['credential_id', 'public_key']).where('user_id', '=', person.user.id).execute();
  const handle = await db.selectFrom('webauthn_user_handles').select('handle').where('user_id', '=', person.user.id).execute();
  const audit = await db.selectFrom('audit_log').select(['mac', 'hash']).where('subject', '=', subject).execute();
  return [
    TOTP_SECRET_ENC,
    PASSWORD_HASH,
    RECOVERY_CODE_HASH,
    RECOVERY_GRANT_HASH,
    ...sessions.map((s) => s.token_hash),
    ...invitations.map((i) => i.token_hash).filter((h): h is string => h !== null),
    ...passkeys.flatMap((p) => [p.credential_id, p.public_key]),
    ...handle.map((h) => h.handle),
    ...audit.flatMap((a) => [a.mac, a.hash]).filter((v): v is string => v !== null),
  ];
}

describe('subject-access export', () => {
  it('holds every section of what is kept about the person, with addresses as stored', async () => {
    const response = await admin.client.get(`/api/admin/people/${person.user.id}/export`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const data = response.body;
    expect(data.format).toBe(PERSON_EXPORT_FORMAT);
    expect(data.exported_by).toBe(`user:${admin.user.id}`);
    expect(data.organisation).toEqual({ id: organisation.id, name: organisation.name });
    expect(data.profile).toMatchObject({ id: person.user.id, username: person.user.username, display_name: person.user.display_name, email: person.user.email, status: 'active', roles: [expect.objectContaining({ role: 'member' })] });
    expect(data.passkeys).toEqual([expect.objectContaining({ name: expect.any(String), aaguid: expect.any(String), bound_acr: expect.any(String), created_at: expect.any(String) })]);
    expect(data.password).toEqual({ set_at: now.toISOString(), changed_at: now.toISOString() });
    expect(data.totp).toMatchObject({ enrolled_at: now.toISOString(), digits: 6 });
    expect(data.sessions.length).toBeGreaterThanOrEqual(1);
    expect(data.sessions[0]).toHaveProperty('ip');
    expect(data.sessions[0]).toHaveProperty('user_agent');
    expect(data.recovery_cases).toEqual([expect.objectContaining({ status: 'completed', identity_check: { document_type: 'id_card', document_last4: '1234', note: 'photo matches' } })]);
    expect(data.invitations).toEqual([expect.objectContaining({ email: person.user.email, role: 'member' })]);
    expect(data.audit.map((a: { action: string }) => a.action)).toContain('passkey.registered');
    expect(data.security_events).toEqual([expect.objectContaining({ type: 'credential_change', ip: '192.0.2.44', initiating_entity: 'user' })]);
    expect(data.groups).toEqual([
      { id: ministry.id, path: '/Export Ministry', membership: 'inherited', added_at: null },
      { id: unit.id, path: '/Export Ministry/Unit', membership: 'direct', added_at: now.toISOString() },
    ]);
    expect(data.attributes).toEqual([{ name: 'clearance_level', type: 'enum', value: 'secret', updated_at: now.toISOString() }]);
    for (const section of ['devices', 'consents']) expect(Array.isArray(data[section])).toBe(true);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('contains no secret and no hash of any kind', async () => {
    const text = JSON.stringify((await admin.client.get(`/api/admin/people/${person.user.id}/export`)).body);
    const secrets = await secretMaterial();
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const secret of secrets) expect(text, `leaks ${secret.slice(0, 12)}…`).not.toContain(secret);
    expect(text).not.toMatch(/"(token_hash|code_hash|grant_hash|secret_enc|hash|mac|public_key|credential_id)"/);
  });

  it('is audited: who exported whom', async () => {
    const before = (await auditOf(runtime, 'person.exported', subject)).length;
    expect((await admin.client.get(`/api/admin/people/${person.user.id}/export`)).status).toBe(200);
    const entries = await auditOf(runtime, 'person.exported', subject);
    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)).toMatchObject({ actor: `user:${admin.user.id}`, outcome: 'success', details: expect.objectContaining({ organisation_id: organisation.id, by: `user:${admin.user.id}` }) });
  });

  it("answers another organisation's admin 404, as if absent, and records no export", async () => {
    const before = await auditOf(runtime, 'person.exported', subject);
    const response = await otherAdmin.client.get(`/api/admin/people/${person.user.id}/export`);
    expect(response.status).toBe(404);
    expect(response.body.error).toBe('person_not_found');
    expect(JSON.stringify(response.body)).not.toContain(person.user.username);
    expect(await auditOf(runtime, 'person.exported', subject)).toEqual(before);
    expect((await admin.client.get(`/api/admin/people/not-a-uuid/export`)).status).toBe(404);
  });

  it('is not open to a member', async () => {
    const member = await enroll(organisation.id, 'member');
    expect((await member.client.get(`/api/admin/people/${person.user.id}/export`)).status).toBe(403);
  });
});

describe('warta user export', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-export-'));

  it('writes the document to a new file readable by the operator only, audited as the CLI', async () => {
    const file = path.join(dir, 'person.json');
    const result = await exportPersonCommand.run({ username: person.user.username, out: file }, cli(runtime));
    expect(result).toMatchObject({ file, username: person.user.username });
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.profile.id).toBe(person.user.id);
    expect(written.exported_by).toBe('cli');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const secret of await secretMaterial()) expect(readFileSync(file, 'utf8')).not.toContain(secret);
    expect((await auditOf(runtime, 'person.exported', subject)).at(-1)).toMatchObject({ actor: 'cli', details: expect.objectContaining({ by: 'cli' }) });
    expect(exportPersonCommand.format(result)).toContain(file);
  });

  it('never overwrites a file, and an export it could not write is not recorded', async () => {
    const file = path.join(dir, 'existing.json');
    writeFileSync(file, 'keep me');
    const before = await auditOf(runtime, 'person.exported', subject);
    await expect(exportPersonCommand.run({ username: person.user.username, out: file }, cli(runtime))).rejects.toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expect(await auditOf(runtime, 'person.exported', subject)).toEqual(before);

    const unknown = path.join(dir, 'nobody.json');
    await expect(exportPersonCommand.run({ username: 'nobody@example.gov', out: unknown }, cli(runtime))).rejects.toThrow(/no user named/);
    expect(existsSync(unknown)).toBe(false);
  });

  it('prints the document without --out (and as JSON with --json)', async () => {
    const result = await exportPersonCommand.run({ username: person.user.username }, cli(runtime));
    expect(result).toMatchObject({ format: PERSON_EXPORT_FORMAT, profile: { id: person.user.id } });
    expect(JSON.parse(exportPersonCommand.format(result)).profile.id).toBe(person.user.id);
  });
});
