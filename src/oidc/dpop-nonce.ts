/**
 * DPoP server nonces (RFC 9449 §8 at the token and PAR endpoints, §9 at protected
 * resources). A nonce lets the server bound how long a proof may have been made in
 * advance: a proof pre-computed by an attacker who briefly held the key stops working
 * when the nonce changes, whatever `iat` it claims (§11.2).
 *
 * Stateless, so that any instance behind a load balancer accepts any instance's nonce:
 * the nonce of a time window is an HMAC of the window's number under the instance
 * secret `dpop-nonce` (kept in the database, like the audit and token-hash keys). The
 * current and the previous window are accepted, so a nonce handed out just before a
 * window ends stays good for at least one window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Clock } from '../clock.js';
import type { SecurityProfile } from '../clients/security-profile.js';
import type { OAuthClient } from '../db/schema.js';

/** How long one nonce is handed out; it is accepted for up to twice as long. */
export const DPOP_NONCE_WINDOW_SECONDS = 300;

/**
 * Whether DPoP proofs of `client` must carry a server-provided nonce: its own
 * `require_dpop_nonce` setting, or the fapi2 profile in force for it. FAPI 2.0 clients
 * must support server-provided nonces (FAPI 2.0 SP §5.3.3.2), and a nonce bounds a
 * proof made in advance by a thief of the key's use (RFC 9449 §11.2) to one window.
 */
export function dpopNonceRequired(client: Pick<OAuthClient, 'require_dpop_nonce'>, profile: SecurityProfile): boolean {
  return client.require_dpop_nonce || profile === 'fapi2';
}

export interface DpopNonceDeps {
  /** The instance secret nonces are made with (runtime.ts). */
  dpopNonceKey: Uint8Array;
  clock: Clock;
}

/** The nonce of the current window: what the server asks clients to use now. */
export function currentDpopNonce(deps: DpopNonceDeps): string {
  return nonceOfWindow(deps.dpopNonceKey, windowOf(deps.clock.now()));
}

/** Whether `nonce` is this window's or the previous window's nonce. */
export function acceptsDpopNonce(deps: DpopNonceDeps, nonce: string): boolean {
  const window = windowOf(deps.clock.now());
  return [window, window - 1].some((w) => equalsConstantTime(nonce, nonceOfWindow(deps.dpopNonceKey, w)));
}

const windowOf = (now: Date) => Math.floor(now.getTime() / 1000 / DPOP_NONCE_WINDOW_SECONDS);

function nonceOfWindow(key: Uint8Array, window: number): string {
  return createHmac('sha256', key).update(`dpop-nonce:${window}`).digest('base64url');
}

function equalsConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
