import { FAPI2_SIGNING_ALGS, type SecurityProfile } from '../clients/security-profile.js';
import type { Deps } from '../deps.js';
import { verifyDpopProof } from './dpop.js';
import { acceptsDpopNonce, currentDpopNonce } from './dpop-nonce.js';
import { endpointUrl } from './endpoints.js';
import { jtiRecorder } from './replay.js';

/** Algorithms accepted in DPoP proofs (discovery `dpop_signing_alg_values_supported`). */
export const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA', 'Ed25519'];

/** The algorithms a DPoP proof of a client held to `profile` may use (FAPI 2.0 SP §5.4.1 for fapi2). */
export const dpopAlgsFor = (profile: SecurityProfile): readonly string[] => (profile === 'fapi2' ? DPOP_ALGS.filter((alg) => FAPI2_SIGNING_ALGS.includes(alg)) : DPOP_ALGS);

/** How long after its iat a proof is accepted (RFC 9449 §11.1: "a relatively brief period"). */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;

/** A request's DPoP header (absent when the client sent none) and the method the proof must name. */
export interface PresentedDpopProof {
  proof: string | undefined;
  method: string;
}

/**
 * Verifies the request's DPoP proof, if any, for the endpoint at `path`; returns the
 * proof key's thumbprint, or undefined when the request carries no DPoP header.
 * With `nonceRequired` the proof must carry a nonce this server provided (dpop-nonce.ts);
 * `allowedAlgs` narrows DPOP_ALGS for a client whose security profile demands it (dpopAlgsFor).
 */
export async function dpopKeyOf(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'dpopNonceKey'>,
  presented: PresentedDpopProof,
  path: string,
  options: { accessToken?: string; nonceRequired?: boolean; allowedAlgs?: readonly string[] } = {},
): Promise<string | undefined> {
  if (presented.proof === undefined) return undefined;
  const { accessToken } = options;
  const { jkt } = await verifyDpopProof({
    proof: presented.proof,
    method: presented.method,
    url: endpointUrl(deps.config.issuer, path),
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(options.nonceRequired ? { nonce: currentDpopNonce(deps), acceptsNonce: (nonce: string) => acceptsDpopNonce(deps, nonce) } : {}),
    now: deps.clock.now(),
    maxAgeSeconds: DPOP_PROOF_MAX_AGE_SECONDS,
    allowedAlgs: options.allowedAlgs ?? DPOP_ALGS,
    markJtiUsed: jtiRecorder(deps, 'dpop'),
  });
  return jkt;
}
