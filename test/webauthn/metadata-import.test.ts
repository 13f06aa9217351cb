/**
 * `warta mds import`: a BLOB is installed only when it chains to the configured
 * FIDO root, is well formed and is newer than the installed one; a refusal
 * leaves the installed file and the audit log as they were.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { importFidoMetadataCommand } from '../../src/cli/commands/mds.js';
import { WartaError } from '../../src/errors.js';
import type { Runtime } from '../../src/runtime.js';
import { createTestRuntime } from '../support/runtime.js';
import { createTestRootCa, issueTestCertificate, type TestCertificate } from '../support/soft-authenticator.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const fidoRoot = await createTestRootCa({ subject: 'C=PL, O=Warta Test, CN=Test FIDO MDS Root' });
const blobSigner = await issueTestCertificate(fidoRoot, { subject: 'C=PL, O=Warta Test, CN=Test FIDO MDS Signer' });
const otherRoot = await createTestRootCa({ subject: 'C=PL, O=Elsewhere, CN=Another Root' });
const otherSigner = await issueTestCertificate(otherRoot, { subject: 'C=PL, O=Elsewhere, CN=Another Signer' });

const statement = {
  aaguid: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
  description: 'Warta Test Key',
  authenticatorVersion: 1,
  protocolFamily: 'fido2',
  schema: 3,
  attestationTypes: ['basic_full'],
  attestationRootCertificates: [Buffer.from(fidoRoot.certDer).toString('base64')],
};

async function signBlob(no: number, signer: TestCertificate = blobSigner): Promise<string> {
  const payload = {
    legalHeader: 'test',
    no,
    nextUpdate: new Date(Date.now() + 30 * DAY_MS).toISOString().slice(0, 10),
    entries: [{ aaguid: statement.aaguid, metadataStatement: statement, statusReports: [{ status: 'FIDO_CERTIFIED_L1' }], timeOfLastStatusChange: '2025-01-01' }],
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [Buffer.from(signer.certDer).toString('base64')] })
    .sign(signer.privateKey);
}

const dir = mkdtempSync(path.join(tmpdir(), 'warta-mds-'));
const blobFile = path.join(dir, 'blob.jwt');
const rootFile = path.join(dir, 'root.pem');
writeFileSync(rootFile, fidoRoot.certPem);
writeFileSync(blobFile, await signBlob(42));
const runtime = await createTestRuntime({ env: { WARTA_FIDO_MDS_FILE: blobFile, WARTA_FIDO_ROOT_CERT_FILE: rootFile } });
const cli = { runtime: async () => runtime as Runtime, write: () => {} };

let uploads = 0;
async function importBlob(text: string) {
  const file = path.join(dir, `download-${(uploads += 1)}.jwt`);
  writeFileSync(file, text);
  return importFidoMetadataCommand.run({ file }, cli);
}

const imports = () => runtime.db.selectFrom('audit_log').select(['subject', 'details']).where('action', '=', 'fido_metadata.imported').orderBy('id').execute();

/** The import is refused with `code`, and the installed file, the audit log and the folder are as they were. */
async function expectRefused(text: string, code: string) {
  const installed = readFileSync(blobFile, 'utf8');
  const audited = await imports();
  const error = await importBlob(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WartaError);
  expect((error as WartaError).code).toBe(code);
  expect(readFileSync(blobFile, 'utf8')).toBe(installed);
  expect(await imports()).toEqual(audited);
  expect(readdirSync(dir).filter((name) => name.endsWith('.importing'))).toEqual([]);
}

describe('warta mds import', () => {
  it('installs a newer BLOB that chains to the configured root, audited with its serial, and says to restart', async () => {
    const blob = await signBlob(43);
    const result = await importBlob(blob);
    expect(result).toMatchObject({ serial: 43, previous_serial: 42, statements: 1, stale: false, file: blobFile });
    expect(readFileSync(blobFile, 'utf8')).toBe(blob);
    expect((await imports()).at(-1)).toMatchObject({ subject: 'fido_metadata:43', details: { serial: 43, previous_serial: 42, statements: 1 } });
    expect(importFidoMetadataCommand.format(result)).toMatch(/Restart every Warta instance/);
  });

  it('refuses a BLOB whose signature does not match its content', async () => {
    const [header, , signature] = (await signBlob(50)).split('.');
    const [, payload] = (await signBlob(51)).split('.');
    await expectRefused(`${header}.${payload}.${signature}`, 'mds_untrusted');
  });

  it('refuses a BLOB signed under another root', async () => {
    await expectRefused(await signBlob(60, otherSigner), 'mds_untrusted');
  });

  it('refuses a rollback to an older BLOB, and the installed one again', async () => {
    await expectRefused(await signBlob(41), 'mds_rollback');
    await expectRefused(await signBlob(43), 'mds_rollback');
  });

  it('refuses a file that is not a BLOB', async () => {
    await expectRefused('not a metadata blob', 'mds_malformed');
    await expectRefused('', 'mds_malformed');
  });

  it('is refused when no BLOB file is configured to install into', async () => {
    const plain = await createTestRuntime();
    const error = await importFidoMetadataCommand.run({ file: blobFile }, { runtime: async () => plain as Runtime, write: () => {} }).catch((e: unknown) => e);
    expect((error as WartaError).code).toBe('mds_not_configured');
  });
});
