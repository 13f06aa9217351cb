import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCbor as decode, encodeCbor, type CborValue } from '../support/cbor.js';
import { CompactSign } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestAttestationCa, createTestRootCa, issueTestCertificate, SoftAuthenticator, type SoftAuthenticatorOptions, type TestCertificate } from '../support/soft-authenticator.js';
import { createTestRuntime, migratedPgliteSnapshot, TEST_MASTER_KEY } from '../support/runtime.js';
import { browser, enrollmentOptions, inviteTo, lastAudit, origin, TEST_ENV } from './ceremony.js';

const aaguid = '2fc0579f-8113-47ea-b116-bb5a8db9202a';
const otherAaguid = 'ee882879-721c-4913-9775-3dfcce97072a';
const { root, leaf } = await createTestAttestationCa({ aaguid });
const base64Der = (cert: TestCertificate) => Buffer.from(cert.certDer).toString('base64');
const statement = (forAaguid: string, roots: TestCertificate[]) => ({
  aaguid: forAaguid,
  description: 'Warta Test Key',
  authenticatorVersion: 1,
  protocolFamily: 'fido2',
  schema: 3,
  attestationTypes: ['basic_full'],
  attestationRootCertificates: roots.map(base64Der),
});

const mdsDir = await mkdtemp(join(tmpdir(), 'warta-mds-'));
await writeFile(join(mdsDir, 'test-key.json'), JSON.stringify(statement(aaguid, [root])));
await writeFile(join(mdsDir, 'other-key.json'), JSON.stringify(statement(otherAaguid, [root])));

const runtime = await createTestRuntime({ env: { ...TEST_ENV, WARTA_FIDO_MDS_DIR: mdsDir } });
const direct = { attestation: 'direct' as const, allowedAaguids: [aaguid.toUpperCase()] };

afterEach(() => vi.restoreAllMocks());

async function register(policy: object, authenticatorOptions: SoftAuthenticatorOptions, tamper?: (options: any) => any, editCredential?: (credential: any) => any) {
  const invitation = await inviteTo(runtime, { policy });
  const client = browser(runtime);
  const options = await enrollmentOptions(client, invitation.token);
  const authenticator = new SoftAuthenticator(authenticatorOptions);
  let credential = authenticator.createCredential(tamper ? tamper(options) : options, { origin: origin(runtime) });
  if (editCredential) credential = editCredential(credential);
  const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential });
  const stored = await runtime.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credential.id).executeTakeFirst();
  return { options, reply, stored, invitation };
}

/** The same attestation object with another fmt (same attStmt): what a different platform would send. */
const withFormat = (fmt: string) => (credential: any) => {
  const object = decode(Buffer.from(credential.response.attestationObject, 'base64url')) as Record<string, unknown>;
  return { ...credential, response: { ...credential.response, attestationObject: Buffer.from(encodeCbor({ ...object, fmt } as CborValue)).toString('base64url') } };
};

describe('attestation policy "direct" with local FIDO metadata', () => {
  it('asks for direct attestation', async () => {
    const { options } = await register(direct, { aaguid, attestation: 'packed-full', attestationCert: leaf });
    expect(options.attestation).toBe('direct');
  });

  it('accepts a certified key on the allow-list and names it from the metadata', async () => {
    const { reply, stored } = await register(direct, { aaguid, attestation: 'packed-full', attestationCert: leaf });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(stored).toMatchObject({ attestation_fmt: 'packed', aaguid, authenticator_name: 'Warta Test Key', name: 'Warta Test Key' });
  });

  it('refuses a model that is not on the organisation’s allow-list, and audits it', async () => {
    const { leaf: otherLeaf } = await createTestAttestationCa({ aaguid: otherAaguid });
    const { reply, stored, invitation } = await register(direct, { aaguid: otherAaguid, attestation: 'packed-full', attestationCert: otherLeaf });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('aaguid_not_allowed');
    expect(stored).toBeUndefined();
    expect(await lastAudit(runtime, 'passkey.registration_failed')).toMatchObject({ subject: `invitation:${invitation.invitation.id}`, details: { reason: 'aaguid_not_allowed' } });
  });

  it('refuses a passkey without attestation', async () => {
    const { reply, stored } = await register(direct, { aaguid, attestation: 'none' });
    expect(reply.body.error).toBe('attestation_required');
    expect(stored).toBeUndefined();
  });

  it('refuses self attestation, which does not identify the model', async () => {
    const { reply } = await register(direct, { aaguid, attestation: 'packed-self' });
    expect(reply.body.error).toBe('attestation_required');
  });

  it('refuses an attestation certificate that does not chain to the model’s root', async () => {
    const rogueRoot = await createTestRootCa({ subject: 'C=PL, O=Rogue, CN=Rogue Root' });
    const rogueLeaf = await issueTestCertificate(rogueRoot, { subject: 'C=PL, O=Rogue, OU=Authenticator Attestation, CN=Rogue Key', aaguid });
    const { reply, stored } = await register(direct, { aaguid, attestation: 'packed-full', attestationCert: rogueLeaf });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('attestation_untrusted');
    expect(stored).toBeUndefined();
  });

  it('refuses an attestation statement with a bad signature', async () => {
    const invitation = await inviteTo(runtime, { policy: direct });
    const client = browser(runtime);
    const options = await enrollmentOptions(client, invitation.token);
    const credential = new SoftAuthenticator({ aaguid, attestation: 'packed-full', attestationCert: leaf }).createCredential(options, { origin: origin(runtime), overrides: { corruptSignature: true } });
    const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('attestation_invalid');
  });

  it('refuses formats that could only be checked online, without touching the network', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch');
    const { reply, stored } = await register(direct, { aaguid, attestation: 'packed-full', attestationCert: leaf }, undefined, withFormat('apple'));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('attestation_format_unsupported');
    expect(stored).toBeUndefined();
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('attestation policy "none"', () => {
  it('ignores any attestation statement sent anyway, stores fmt none, and never reaches for the network', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch');
    const askDirect = (options: object) => ({ ...options, attestation: 'direct' });
    const { reply, stored } = await register({}, { aaguid, attestation: 'packed-full', attestationCert: leaf }, askDirect, withFormat('android-key'));
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(stored).toMatchObject({ attestation_fmt: 'none', aaguid });
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('FIDO metadata configuration', () => {
  it('refuses to start a registration for a "direct" organisation when no metadata is installed', async () => {
    const bare = await createTestRuntime({ env: TEST_ENV });
    const invitation = await inviteTo(bare, { policy: direct });
    const reply = await browser(bare).post('/api/webauthn/enrollment/options', { invitation: invitation.token });
    expect(reply.status).toBe(503);
    expect(reply.body.error).toBe('attestation_metadata_unavailable');
    expect(reply.body.error_description).toMatch(/WARTA_FIDO_MDS_FILE/);
  });

  it('loads a signed MDS3 BLOB and its root from local files at start-up', async () => {
    const fidoRoot = await createTestRootCa({ subject: 'C=PL, O=Warta Test, CN=Test FIDO Root' });
    const signer = await issueTestCertificate(fidoRoot, { subject: 'C=PL, O=Warta Test, CN=Test MDS Signer' });
    const payload = { legalHeader: 'test', no: 7, nextUpdate: new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10), entries: [{ aaguid, metadataStatement: statement(aaguid, [root]), statusReports: [{ status: 'FIDO_CERTIFIED_L1' }], timeOfLastStatusChange: '2025-01-01' }] };
    const blob = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [base64Der(signer)] }).sign(signer.privateKey);
    await writeFile(join(mdsDir, 'blob.jwt'), blob);
    await writeFile(join(mdsDir, 'root.pem'), fidoRoot.certPem);
    const withBlob = await createTestRuntime({ env: { ...TEST_ENV, WARTA_FIDO_MDS_FILE: join(mdsDir, 'blob.jwt'), WARTA_FIDO_ROOT_CERT_FILE: join(mdsDir, 'root.pem') } });
    expect(withBlob.fidoMetadata?.serial).toBe(7);
    expect(withBlob.fidoMetadata?.entries.get(aaguid)?.description).toBe('Warta Test Key');
  });

  it('refuses to start with a BLOB that does not chain to the configured root', async () => {
    const otherRoot = await createTestRootCa({ subject: 'C=PL, O=Other, CN=Other Root' });
    await writeFile(join(mdsDir, 'other-root.pem'), otherRoot.certPem);
    const config = loadConfig({ NODE_ENV: 'test', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_LOG_LEVEL: 'silent', WARTA_FIDO_MDS_FILE: join(mdsDir, 'blob.jwt'), WARTA_FIDO_ROOT_CERT_FILE: join(mdsDir, 'other-root.pem') });
    await expect(openRuntime(config, { pgliteDir: 'memory://', pgliteSnapshot: await migratedPgliteSnapshot() })).rejects.toMatchObject({ code: 'fido_metadata_untrusted' });
  });

  it('needs the FIDO root certificate with a BLOB, and only one source', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', WARTA_FIDO_MDS_FILE: '/x/blob.jwt' })).toThrow(/WARTA_FIDO_ROOT_CERT_FILE/);
    expect(() => loadConfig({ NODE_ENV: 'test', WARTA_FIDO_MDS_FILE: '/x/blob.jwt', WARTA_FIDO_ROOT_CERT_FILE: '/x/root.pem', WARTA_FIDO_MDS_DIR: '/x' })).toThrow(/not both/);
  });
});
