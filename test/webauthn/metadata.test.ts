import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactSign } from 'jose';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import { WartaError } from '../../src/errors.js';
import {
  attestationPolicyCheck,
  loadMetadataFromBlob,
  loadMetadataFromDirectory,
  type AttestedRegistration,
  type FidoMetadata,
} from '../../src/webauthn/metadata.js';
import {
  createTestAttestationCa,
  createTestRootCa,
  issueTestCertificate,
  SoftAuthenticator,
  type AttestationCertificate,
  type SoftAttestation,
  type TestCertificate,
} from '../support/soft-authenticator.js';

const rpID = 'id.warta.test';
const origin = 'https://id.warta.test';
const aaguid = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';
const otherAaguid = 'f9e8d7c6-b5a4-4392-8170-6f5e4d3c2b1a';
const now = new Date();
const DAY_MS = 24 * 60 * 60 * 1000;

let fidoRoot: TestCertificate;
let blobSigner: TestCertificate;
let attestationRoot: TestCertificate;
let attestationLeaf: TestCertificate;

beforeAll(async () => {
  fidoRoot = await createTestRootCa({ subject: 'C=PL, O=Warta Test, CN=Test FIDO MDS Root' });
  blobSigner = await issueTestCertificate(fidoRoot, { subject: 'C=PL, O=Warta Test, CN=Test FIDO MDS Signer' });
  ({ root: attestationRoot, leaf: attestationLeaf } = await createTestAttestationCa({ aaguid }));
});

const base64Der = (cert: TestCertificate) => Buffer.from(cert.certDer).toString('base64');

function statement(forAaguid: string, roots: TestCertificate[], description = 'Warta Test Key') {
  return {
    aaguid: forAaguid,
    description,
    authenticatorVersion: 1,
    protocolFamily: 'fido2',
    schema: 3,
    attestationTypes: ['basic_full'],
    attestationRootCertificates: roots.map(base64Der),
  };
}

async function signBlob(
  entries: unknown[],
  { signer = blobSigner, nextUpdate = new Date(now.getTime() + 30 * DAY_MS) } = {},
): Promise<string> {
  const payload = { legalHeader: 'test', no: 42, nextUpdate: nextUpdate.toISOString().slice(0, 10), entries };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [base64Der(signer)] })
    .sign(signer.privateKey);
}

async function metadataWith(entries: unknown[]): Promise<FidoMetadata> {
  return loadMetadataFromBlob(await signBlob(entries), { trustedRootPem: fidoRoot.certPem, now });
}

const entry = (statementJson: object, statusReports: object[] = [{ status: 'FIDO_CERTIFIED_L1' }]) => ({
  aaguid: (statementJson as { aaguid: string }).aaguid,
  metadataStatement: statementJson,
  statusReports,
  timeOfLastStatusChange: '2025-01-01',
});

async function registerWith(attestation: SoftAttestation, opts: { cert?: AttestationCertificate } = {}) {
  const authenticator = new SoftAuthenticator({
    aaguid,
    attestation,
    attestationCert: opts.cert ?? attestationLeaf,
  });
  const options = await generateRegistrationOptions({
    rpName: 'Warta',
    rpID,
    userName: 'ala@warta.test',
    attestationType: 'direct',
  });
  const { registrationInfo } = await verifyRegistrationResponse({
    response: authenticator.createCredential(options, { origin }),
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  });
  if (!registrationInfo) throw new Error('registration did not verify');
  return registrationInfo satisfies AttestedRegistration;
}

async function rejectionOf(promise: Promise<unknown>): Promise<WartaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WartaError);
  return error as WartaError;
}

const direct = { attestation: 'direct', allowedAaguids: [aaguid] } as const;

describe('loadMetadataFromBlob', () => {
  it('indexes the FIDO2 entries of a BLOB signed under the trusted root by AAGUID', async () => {
    const blob = await signBlob([entry(statement(aaguid, [attestationRoot])), { aaid: '4e4e#4005', statusReports: [] }]);

    const metadata = await loadMetadataFromBlob(blob, { trustedRootPem: fidoRoot.certPem, now });

    expect(metadata.stale).toBe(false);
    expect(metadata.serial).toBe(42);
    expect([...metadata.entries.keys()]).toEqual([aaguid]);
    expect(metadata.entries.get(aaguid)?.description).toBe('Warta Test Key');
  });

  it('still loads a BLOB past its nextUpdate but reports it as stale', async () => {
    const blob = await signBlob([entry(statement(aaguid, [attestationRoot]))], {
      nextUpdate: new Date(now.getTime() - DAY_MS),
    });

    const metadata = await loadMetadataFromBlob(blob, { trustedRootPem: fidoRoot.certPem, now });

    expect(metadata.stale).toBe(true);
    expect(metadata.entries.has(aaguid)).toBe(true);
  });

  it('rejects a BLOB whose payload was changed after signing', async () => {
    const [header, , signature] = (await signBlob([entry(statement(aaguid, [attestationRoot]))])).split('.');
    const forged = { legalHeader: 'test', no: 43, nextUpdate: '2999-01-01', entries: [entry(statement(aaguid, [fidoRoot]))] };
    const tampered = [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');

    const error = await rejectionOf(loadMetadataFromBlob(tampered, { trustedRootPem: fidoRoot.certPem, now }));

    expect(error.code).toBe('fido_metadata_untrusted');
    expect(error.description).toMatch(/signature/);
  });

  it('rejects a BLOB signed by a certificate that does not chain to the trusted root', async () => {
    const otherRoot = await createTestRootCa({ subject: 'C=PL, O=Evil, CN=Not FIDO' });
    const impostor = await issueTestCertificate(otherRoot, { subject: 'C=PL, O=Warta Test, CN=Test FIDO MDS Signer' });
    const blob = await signBlob([entry(statement(aaguid, [attestationRoot]))], { signer: impostor });

    const error = await rejectionOf(loadMetadataFromBlob(blob, { trustedRootPem: fidoRoot.certPem, now }));

    expect(error.code).toBe('fido_metadata_untrusted');
  });

  it('rejects a file that is not a JWT', async () => {
    const error = await rejectionOf(loadMetadataFromBlob('<html>login</html>', { trustedRootPem: fidoRoot.certPem, now }));

    expect(error.code).toBe('fido_metadata_malformed');
    expect(error.description).toMatch(/not a JWT/);
  });

  it('rejects a trusted root that is not a certificate', async () => {
    const blob = await signBlob([]);

    const error = await rejectionOf(loadMetadataFromBlob(blob, { trustedRootPem: 'not a certificate', now }));

    expect(error.description).toMatch(/trusted FIDO root/);
  });
});

describe('loadMetadataFromDirectory', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warta-mds-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads every *.json file as a metadata statement and ignores other files', async () => {
    await writeFile(join(dir, 'test-key.json'), JSON.stringify(statement(aaguid.toUpperCase(), [attestationRoot])));
    await writeFile(join(dir, 'README.txt'), 'statements go here');

    const metadata = await loadMetadataFromDirectory(dir);

    expect([...metadata.entries.keys()]).toEqual([aaguid]);
    expect(metadata.stale).toBe(false);
    expect(attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now)).toMatchObject({ ok: true });
  });

  it('names the file when a statement lacks attestationRootCertificates', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'warta-mds-'));
    await writeFile(join(broken, 'broken.json'), JSON.stringify({ aaguid, description: 'No roots' }));

    const error = await rejectionOf(loadMetadataFromDirectory(broken));

    expect(error.code).toBe('fido_metadata_malformed');
    expect(error.description).toMatch(/broken\.json.*attestationRootCertificates/);
    await rm(broken, { recursive: true, force: true });
  });
});

describe('attestationPolicyCheck', () => {
  it("accepts any authenticator under policy 'none'", async () => {
    const metadata = await metadataWith([]);

    const decision = attestationPolicyCheck({ attestation: 'none' }, await registerWith('none'), metadata, now);

    expect(decision).toEqual({ ok: true, aaguid });
  });

  it('accepts an allowed AAGUID whose full attestation chains to its metadata root', async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toEqual({ ok: true, aaguid, authenticatorName: 'Warta Test Key' });
  });

  it('follows x5c through an intermediate CA to the metadata root', async () => {
    const intermediate = await issueTestCertificate(attestationRoot, {
      subject: 'C=PL, O=Warta Test, CN=Warta Test Attestation CA 1',
      ca: true,
    });
    const leaf = await issueTestCertificate(intermediate, {
      subject: 'C=PL, O=Warta Test, OU=Authenticator Attestation, CN=Warta Batch 1',
      aaguid,
    });
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);

    const registration = await registerWith('packed-full', { cert: { ...leaf, intermediates: [intermediate.certDer] } });

    expect(attestationPolicyCheck(direct, registration, metadata, now)).toMatchObject({ ok: true });
  });

  it('rejects an attestation chain that has expired by the time of the check', async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);
    const inTwoYears = new Date(now.getTime() + 2 * 365 * DAY_MS);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, inTwoYears);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_untrusted' });
  });

  it('rejects an AAGUID the organisation does not allow', async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);
    const policy = { attestation: 'direct', allowedAaguids: [otherAaguid] } as const;

    const decision = attestationPolicyCheck(policy, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'aaguid_not_allowed' });
  });

  it("rejects attestation 'none' under a direct policy", async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);

    const decision = attestationPolicyCheck(direct, await registerWith('none'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_required' });
  });

  it('rejects self attestation under a direct policy', async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]))]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-self'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_required' });
  });

  it("rejects an attestation that chains to a root other than the AAGUID's metadata names", async () => {
    const { root: otherRoot } = await createTestAttestationCa({ aaguid });
    const metadata = await metadataWith([entry(statement(aaguid, [otherRoot]))]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_untrusted' });
  });

  it("does not accept another model's root for this AAGUID", async () => {
    const metadata = await metadataWith([
      entry(statement(aaguid, [fidoRoot])),
      entry(statement(otherAaguid, [attestationRoot], 'Other Key')),
    ]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_untrusted' });
  });

  it('rejects an allowed AAGUID that has no metadata statement', async () => {
    const metadata = await metadataWith([]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'attestation_untrusted' });
  });

  it.each([
    'REVOKED',
    'USER_VERIFICATION_BYPASS',
    'ATTESTATION_KEY_COMPROMISE',
    'USER_KEY_REMOTE_COMPROMISE',
    'USER_KEY_PHYSICAL_COMPROMISE',
  ])('rejects an authenticator FIDO reports as %s', async (status) => {
    const reports = [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }, { status, effectiveDate: '2025-01-01' }];
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]), reports)]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: false, code: 'authenticator_revoked' });
  });

  it('ignores status reports that only say an update is available', async () => {
    const metadata = await metadataWith([entry(statement(aaguid, [attestationRoot]), [{ status: 'UPDATE_AVAILABLE' }])]);

    const decision = attestationPolicyCheck(direct, await registerWith('packed-full'), metadata, now);

    expect(decision).toMatchObject({ ok: true });
  });
});
