import type { RegistrationResponseJSON, VerifiedRegistrationResponse } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { WartaError } from '../errors.js';
import type { OrganisationPolicy } from '../orgs/policy.js';
import type { DecodedAttestation } from './checks.js';
import { type AttestationDecision, type AttestationPolicy, attestationPolicyCheck, type FidoMetadata } from './metadata.js';

/** The organisation's attestation policy in the shape metadata.ts checks. */
export function attestationPolicyOf(policy: OrganisationPolicy): AttestationPolicy {
  return policy.attestation === 'direct' ? { attestation: 'direct', allowedAaguids: policy.allowedAaguids ?? [] } : { attestation: 'none' };
}

/** Refuses to start a registration that could never satisfy a `direct` policy on this server. */
export function assertAttestationSupported(policy: AttestationPolicy, metadata: FidoMetadata | undefined): void {
  if (policy.attestation === 'direct' && !metadata)
    throw new WartaError(
      503,
      'attestation_metadata_unavailable',
      'your organisation accepts only certified security keys, but this Warta server has no FIDO metadata installed to check them; ask your administrator to set WARTA_FIDO_MDS_FILE or WARTA_FIDO_MDS_DIR',
    );
}

// Formats whose statements @simplewebauthn verifies without trust anchors of its own. The others
// (apple, android-key, android-safetynet) are checked against built-in roots with CRLs fetched over
// the network, which Warta never does at run time.
const OFFLINE_FORMATS = new Set(['none', 'packed', 'tpm', 'fido-u2f']);

/**
 * The registration response as the library should verify it. Under `none` Warta
 * does not look at attestation at all, so the statement is replaced by `none`, as
 * a browser is allowed to do (§5.4.7): nothing in it is trusted, and no format's
 * verifier gets a chance to reach for the network. Under `direct` the statement is
 * kept, in a format that can be verified offline.
 */
export function responseForVerification(response: RegistrationResponseJSON, decoded: DecodedAttestation, policy: AttestationPolicy): RegistrationResponseJSON {
  if (policy.attestation === 'direct') {
    if (!OFFLINE_FORMATS.has(decoded.fmt)) throw new WartaError(400, 'attestation_format_unsupported', `attestation format "${decoded.fmt}" cannot be checked by this server; use a FIDO-certified security key`);
    return response;
  }
  if (decoded.fmt === 'none') return response;
  const stripped = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', decoded.object.get('authData')]]) as Parameters<typeof isoCBOR.encode>[0]);
  return { ...response, response: { ...response.response, attestationObject: Buffer.from(stripped).toString('base64url') } };
}

type RegistrationInfo = NonNullable<VerifiedRegistrationResponse['registrationInfo']>;

/** The organisation's decision on a verified registration; throws 403 with metadata.ts's code when it refuses. */
export function checkAttestationPolicy(policy: AttestationPolicy, info: RegistrationInfo, metadata: FidoMetadata | undefined, now: Date): Extract<AttestationDecision, { ok: true }> {
  assertAttestationSupported(policy, metadata);
  const decision = attestationPolicyCheck(policy, info, metadata ?? { entries: new Map(), stale: false }, now);
  if (!decision.ok) throw new WartaError(403, decision.code, decision.description);
  return decision;
}
