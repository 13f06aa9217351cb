/**
 * WebAuthn §7.2 ("verify that sig is a valid signature"): the assertion signature, over
 * authenticatorData ‖ SHA-256(clientDataJSON), checked with the credential's
 * stored COSE public key (a cached node:crypto KeyObject, src/crypto/cose-key.ts).
 */
import { createHash } from 'node:crypto';
import { cachedCoseVerifier, type CoseVerifier } from '../crypto/cose-key.js';
import { WartaError } from '../errors.js';

export function checkAssertionSignature(publicKey: string, signed: { authenticatorData: Uint8Array; clientDataJSON: Uint8Array; signature: Uint8Array }): void {
  let verifier: CoseVerifier;
  try {
    verifier = cachedCoseVerifier(publicKey);
  } catch (error) {
    throw unreadable(error);
  }
  const clientDataHash = createHash('sha256').update(signed.clientDataJSON).digest();
  let valid: boolean;
  try {
    valid = verifier.verify(Buffer.concat([signed.authenticatorData, clientDataHash]), signed.signature);
  } catch (error) {
    throw unreadable(error);
  }
  if (!valid) throw new WartaError(401, 'signature_invalid', 'the passkey signature is not valid');
}

const unreadable = (error: unknown) =>
  new WartaError(400, 'malformed_response', 'the passkey response could not be read', { detail: error instanceof Error ? error.message : String(error), cause: error });
