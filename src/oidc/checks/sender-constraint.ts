/**
 * Sender-constrained access tokens: the one place a token request's proof of possession
 * is demanded. A client held to fapi2 gets no bearer token (FAPI 2.0 SP §5.3.2.1: "shall
 * only issue sender-constrained access tokens"); a baseline client only when it registered
 * `dpop_bound_access_tokens` (RFC 9449 §5.2). DPoP is one binding; an mTLS client
 * certificate (RFC 8705) is the other a fapi2 client may use, checked here as well.
 */
import type { OAuthClient } from '../../db/schema.js';
import type { SecurityProfile } from '../../clients/security-profile.js';
import { WartaError } from '../../errors.js';

/** How the token request proved possession of a key: its verified DPoP proof's key, and the TLS client certificate its tokens will be bound to, if any. */
export interface PresentedKeyBinding {
  dpopJkt: string | undefined;
  certificateThumbprint: string | undefined;
}

export function requireSenderConstraint(client: Pick<OAuthClient, 'dpop_bound_access_tokens'>, profile: SecurityProfile, binding: PresentedKeyBinding): void {
  // A missing proof is a missing parameter (RFC 6749 §5.2), which is what the FAPI 2.0 conformance suite expects;
  // invalid_dpop_proof (RFC 9449 §5) is for a proof that was sent and failed.
  if (profile === 'fapi2' && binding.dpopJkt === undefined && binding.certificateThumbprint === undefined)
    throw new WartaError(400, 'invalid_request', 'this client is held to the fapi2 security profile: access tokens are only issued sender-constrained, so the token request needs a DPoP proof (or the client certificate-bound tokens, RFC 8705)');
  if (client.dpop_bound_access_tokens && binding.dpopJkt === undefined) throw new WartaError(400, 'invalid_dpop_proof', 'this client must send a DPoP proof');
}
