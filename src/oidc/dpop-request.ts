import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import { verifyDpopProof } from './dpop.js';
import { endpointUrl } from './endpoints.js';
import { jtiRecorder } from './replay.js';

/** Algorithms accepted in DPoP proofs (discovery `dpop_signing_alg_values_supported`). */
export const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA', 'Ed25519'];

/** How long after its iat a proof is accepted (RFC 9449 §11.1: "a relatively brief period"). */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;

/**
 * Verifies the request's DPoP header, if any, for the endpoint at `path`; returns the
 * proof key's thumbprint, or undefined when the request carries no DPoP header.
 */
export async function dpopKeyOf(c: Context, deps: Pick<Deps, 'db' | 'clock' | 'config'>, path: string, accessToken?: string): Promise<string | undefined> {
  const proof = c.req.header('dpop');
  if (proof === undefined) return undefined;
  const { jkt } = await verifyDpopProof({
    proof,
    method: c.req.method,
    url: endpointUrl(deps.config.issuer, path),
    ...(accessToken === undefined ? {} : { accessToken }),
    now: deps.clock.now(),
    maxAgeSeconds: DPOP_PROOF_MAX_AGE_SECONDS,
    allowedAlgs: DPOP_ALGS,
    markJtiUsed: jtiRecorder(deps, 'dpop'),
  });
  return jkt;
}
