/**
 * FIDO Metadata (MDS3) from local files, and the per-organisation attestation policy.
 *
 * Warta never fetches at run time: the operator downloads the MDS3 BLOB and the FIDO
 * root certificate offline (WARTA_FIDO_MDS_FILE), or keeps a folder of metadata
 * statements (WARTA_FIDO_MDS_DIR).
 *
 * `verifyRegistrationResponse` checks the attestation signature and the §8.2.1 leaf
 * certificate rules; the trust decision (does x5c chain to a root the metadata names for
 * this AAGUID, is the model compromised) is made here, from local data only. We do not
 * use @simplewebauthn's MetadataService: it is a process-wide singleton (policies here are
 * per organisation) and its certificate path validation fetches CRLs over the network.
 *
 * @example
 * const metadata = await loadMetadataFromBlob(blobText, { trustedRootPem, now: clock.now() });
 * const decision = attestationPolicyCheck(org.attestationPolicy, registrationInfo, metadata, clock.now());
 * if (!decision.ok) throw new WartaError(403, decision.code, decision.description);
 */
import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { MetadataStatement, StatusReport, VerifiedRegistrationResponse } from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import { WartaError } from '../errors.js';

export interface MetadataEntry {
  aaguid: string;
  description: string;
  statement: MetadataStatement;
  statusReports: StatusReport[];
  /** statement.attestationRootCertificates, parsed. */
  trustAnchors: X509Certificate[];
}

export interface FidoMetadata {
  /** Keyed by lower-case AAGUID. */
  entries: ReadonlyMap<string, MetadataEntry>;
  /** The BLOB's serial number `no`; absent for a directory of statements. */
  serial?: number;
  nextUpdate?: Date;
  /** The BLOB is past its nextUpdate. It is still used; the operator should download a newer one. */
  stale: boolean;
}

export type AttestationPolicy = { attestation: 'none' } | { attestation: 'direct'; allowedAaguids: readonly string[] };

export type AttestationRejection =
  | 'attestation_required'
  | 'aaguid_not_allowed'
  | 'attestation_untrusted'
  | 'authenticator_revoked';

export type AttestationDecision =
  | { ok: true; aaguid: string; authenticatorName?: string }
  | { ok: false; code: AttestationRejection; description: string };

/** The part of a verified registration the policy looks at. */
export type AttestedRegistration = Pick<
  NonNullable<VerifiedRegistrationResponse['registrationInfo']>,
  'fmt' | 'aaguid' | 'attestationObject'
>;

// Asymmetric algorithms only: 'none' or an HMAC would let anyone who can write the file forge it.
const BLOB_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

// AuthenticatorStatus values under which FIDO MDS3 says the model's attestation must not be trusted.
const COMPROMISED_STATUSES = new Set([
  'REVOKED',
  'USER_VERIFICATION_BYPASS',
  'ATTESTATION_KEY_COMPROMISE',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
]);

/**
 * Verify an MDS3 BLOB (a JWS whose x5c header chains to `trustedRootPem`) and index its
 * FIDO2 entries by AAGUID (MDS3 "Metadata BLOB object processing rules"). A BLOB past its nextUpdate loads with `stale: true`.
 */
export async function loadMetadataFromBlob(
  jwt: string,
  { trustedRootPem, now }: { trustedRootPem: string; now: Date },
): Promise<FidoMetadata> {
  const root = parseCertificate(trustedRootPem, 'the trusted FIDO root certificate');
  const token = jwt.trim();
  const signingChain = readSigningChain(token);
  if (!chainsToTrustAnchor(signingChain, [root], now)) {
    throw untrusted('The FIDO metadata BLOB is not signed by a certificate chaining to the trusted root');
  }
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(token, signingChain[0]!.publicKey, { algorithms: BLOB_ALGORITHMS }));
  } catch (cause) {
    throw untrusted('The FIDO metadata BLOB signature is invalid', cause);
  }

  const payload = parseJson(new TextDecoder().decode(payloadBytes), 'the FIDO metadata BLOB payload');
  if (!isObject(payload) || typeof payload.no !== 'number' || !Array.isArray(payload.entries)) {
    throw malformed('The FIDO metadata BLOB payload lacks `no` or `entries`');
  }
  const nextUpdate = new Date(String(payload.nextUpdate));
  if (Number.isNaN(nextUpdate.getTime())) {
    throw malformed('The FIDO metadata BLOB payload has no valid `nextUpdate`');
  }

  const entries = new Map<string, MetadataEntry>();
  for (const [index, entry] of payload.entries.entries()) {
    // UAF (aaid) and U2F (attestationCertificateKeyIdentifiers) entries have no AAGUID; WebAuthn registrations do.
    if (!isObject(entry) || typeof entry.aaguid !== 'string') continue;
    const where = `BLOB entry ${index} (${entry.aaguid})`;
    if (entry.statusReports !== undefined && !Array.isArray(entry.statusReports)) {
      throw malformed(`The FIDO metadata ${where} has malformed statusReports`);
    }
    addEntry(entries, toEntry(entry.metadataStatement, (entry.statusReports ?? []) as StatusReport[], where), where);
  }
  return { entries, serial: payload.no, nextUpdate, stale: now > nextUpdate };
}

/** Load every *.json file in `dir` as one metadata statement (no status reports, never stale). */
export async function loadMetadataFromDirectory(dir: string): Promise<FidoMetadata> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch (cause) {
    throw malformed(`Cannot read the FIDO metadata directory ${dir}`, cause);
  }
  const entries = new Map<string, MetadataEntry>();
  for (const name of names) {
    const path = join(dir, name);
    const statement = parseJson(await readFile(path, 'utf8'), path);
    addEntry(entries, toEntry(statement, [], path), path);
  }
  return { entries, stale: false };
}

/**
 * Decide whether an organisation accepts this (already signature-verified) registration.
 * Under 'direct', the attestation must be a certificate chain for an allow-listed AAGUID
 * that reaches a root named by that AAGUID's metadata, and the model must not be compromised.
 */
export function attestationPolicyCheck(
  policy: AttestationPolicy,
  registration: AttestedRegistration,
  metadata: FidoMetadata,
  now: Date,
): AttestationDecision {
  const aaguid = registration.aaguid.toLowerCase();
  const entry = metadata.entries.get(aaguid);
  const accepted: AttestationDecision = entry ? { ok: true, aaguid, authenticatorName: entry.description } : { ok: true, aaguid };
  if (policy.attestation === 'none') return accepted;

  if (registration.fmt === 'none') {
    return reject('attestation_required', 'This organisation requires an attested security key; the browser sent no attestation');
  }
  const x5c = decodeAttestationObject(registration.attestationObject).get('attStmt').get('x5c') ?? [];
  if (x5c.length === 0) {
    // Self attestation is signed by the credential's own key, so it says nothing about the model.
    return registration.fmt === 'packed'
      ? reject('attestation_required', 'The authenticator sent only self attestation, which does not identify its model')
      : reject('attestation_untrusted', `Attestation format ${registration.fmt} carries no certificate chain to check`);
  }
  if (!policy.allowedAaguids.some((allowed) => allowed.toLowerCase() === aaguid)) {
    return reject('aaguid_not_allowed', `Authenticator model ${aaguid} is not allowed by this organisation`);
  }
  if (!entry) {
    return reject('attestation_untrusted', `No FIDO metadata statement is installed for authenticator model ${aaguid}`);
  }
  let chain: X509Certificate[];
  try {
    chain = x5c.map((der) => new X509Certificate(der));
  } catch {
    return reject('attestation_untrusted', 'The attestation certificate chain cannot be parsed');
  }
  if (!chainsToTrustAnchor(chain, entry.trustAnchors, now)) {
    return reject('attestation_untrusted', `The attestation does not chain to a root certified for ${entry.description}`);
  }
  const compromise = entry.statusReports.find(
    (report) => COMPROMISED_STATUSES.has(report.status) && !(report.effectiveDate && new Date(report.effectiveDate) > now),
  );
  if (compromise) {
    return reject('authenticator_revoked', `FIDO reports ${entry.description} as ${compromise.status}`);
  }
  return accepted;
}

/**
 * Path validation against trust anchors (RFC 5280 §6, minus revocation, which needs the
 * network). MDS statements may name a root, an intermediate or even the attestation
 * certificate itself as the anchor, so the walk stops at the first certificate that is one.
 */
function chainsToTrustAnchor(chain: X509Certificate[], anchors: X509Certificate[], now: Date): boolean {
  for (const [index, cert] of chain.entries()) {
    if (!isValidAt(cert, now)) return false;
    if (anchors.some((anchor) => anchor.raw.equals(cert.raw))) return true;
    const issuer = chain[index + 1];
    if (issuer) {
      if (!isIssuedBy(cert, issuer)) return false;
      continue;
    }
    return anchors.some((anchor) => isValidAt(anchor, now) && isIssuedBy(cert, anchor));
  }
  return false;
}

function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function isValidAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

function readSigningChain(jwt: string): X509Certificate[] {
  let x5c: unknown;
  try {
    ({ x5c } = decodeProtectedHeader(jwt));
  } catch (cause) {
    throw malformed('The FIDO metadata BLOB is not a JWT', cause);
  }
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((cert) => typeof cert === 'string')) {
    throw malformed('The FIDO metadata BLOB header has no x5c certificate chain');
  }
  return x5c.map((cert: string, index) => parseCertificate(cert, `BLOB header x5c[${index}]`));
}

function toEntry(statement: unknown, statusReports: StatusReport[], where: string): MetadataEntry {
  if (!isObject(statement) || typeof statement.aaguid !== 'string' || typeof statement.description !== 'string') {
    throw malformed(`The FIDO metadata statement in ${where} lacks aaguid or description`);
  }
  const roots = statement.attestationRootCertificates;
  if (!Array.isArray(roots) || !roots.every((root) => typeof root === 'string')) {
    throw malformed(`The FIDO metadata statement in ${where} lacks attestationRootCertificates`);
  }
  return {
    aaguid: statement.aaguid.toLowerCase(),
    description: statement.description,
    statement: statement as unknown as MetadataStatement,
    statusReports,
    trustAnchors: roots.map((root: string, index) => parseCertificate(root, `${where} attestationRootCertificates[${index}]`)),
  };
}

function addEntry(entries: Map<string, MetadataEntry>, entry: MetadataEntry, where: string): void {
  if (entries.has(entry.aaguid)) {
    throw malformed(`The FIDO metadata in ${where} repeats AAGUID ${entry.aaguid}`);
  }
  entries.set(entry.aaguid, entry);
}

/** PEM, or base64 DER as in x5c and attestationRootCertificates. */
function parseCertificate(text: string, what: string): X509Certificate {
  try {
    return new X509Certificate(text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64'));
  } catch (cause) {
    throw malformed(`Cannot parse ${what} as an X.509 certificate`, cause);
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw malformed(`${what} is not valid JSON`, cause);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const reject = (code: AttestationRejection, description: string): AttestationDecision => ({ ok: false, code, description });

const malformed = (description: string, cause?: unknown) =>
  new WartaError(500, 'fido_metadata_malformed', description, { cause });

const untrusted = (description: string, cause?: unknown) =>
  new WartaError(500, 'fido_metadata_untrusted', description, { cause });
