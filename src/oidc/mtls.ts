/**
 * OAuth 2.0 Mutual-TLS Client Authentication and Certificate-Bound Access Tokens (RFC 8705),
 * with the certificate a trusted proxy forwarded (src/http/client-certificate.ts).
 *
 *  - §2.1 `tls_client_auth`: the proxy verified the chain to a CA (its verify header said
 *    SUCCESS), and the certificate carries the one subject value the client registered:
 *    its subject DN (RFC 4514) or a SAN of type dNSName, URI, iPAddress or rfc822Name.
 *  - §2.2 `self_signed_tls_client_auth`: no chain; the certificate's public key is one of
 *    the client's registered `jwks` (possession of the private key was proven in the handshake).
 *  - §3 certificate-bound tokens: `cnf: {"x5t#S256": …}`, the base64url SHA-256 of the
 *    certificate's DER; a protected resource accepts the token only over a connection
 *    with that certificate.
 */
import { createHash, createPublicKey, type JsonWebKey, type X509Certificate } from 'node:crypto';
import type { OAuthClient } from '../db/schema.js';
import type { PresentedClientCertificate } from '../http/client-certificate.js';
import { parseIpAddress } from '../outbound/addresses.js';
import type { TlsClientAuthSubject } from '../clients/metadata.js';
import { parseCertificateSubject, parseDistinguishedName, sameDistinguishedName } from '../crypto/distinguished-name.js';

export const MTLS_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;
export type MtlsAuthMethod = (typeof MTLS_AUTH_METHODS)[number];
export const isMtlsAuthMethod = (method: string): method is MtlsAuthMethod => (MTLS_AUTH_METHODS as readonly string[]).includes(method);

/** RFC 8705 §3.1: `x5t#S256`, the base64url SHA-256 thumbprint of the certificate's DER encoding. */
export function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/** Why `presented` does not authenticate `client` (registered with an mTLS method), or undefined when it does. */
export function certificateAuthenticationRefusal(client: Pick<OAuthClient, 'token_endpoint_auth_method' | 'jwks' | TlsClientAuthSubject>, presented: PresentedClientCertificate | undefined): string | undefined {
  if (presented === undefined) return 'this client authenticates with a TLS client certificate, and the connection presented none';
  if (client.token_endpoint_auth_method === 'self_signed_tls_client_auth')
    return publicKeyIsRegistered(presented.certificate, client.jwks?.keys ?? []) ? undefined : 'the client certificate\'s key is not one of the client\'s registered keys';
  // §2.1: the PKI method relies on the CA that issued the certificate; without the proxy's verdict on the chain anyone could write the subject.
  if (!presented.chainVerified) return 'the client certificate\'s chain was not verified by the proxy (PKI client authentication needs WARTA_MTLS_VERIFY_HEADER)';
  return certificateCarriesSubject(presented.certificate, client) ? undefined : 'the client certificate does not carry the client\'s registered subject';
}

function publicKeyIsRegistered(certificate: X509Certificate, keys: Record<string, unknown>[]): boolean {
  const presented = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return keys.some((jwk) => {
    try {
      return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'der' }).equals(presented);
    } catch {
      return false; // checked at registration; a key Node cannot read matches nothing
    }
  });
}

/** §2.1.2: exactly one of the subject metadata is registered; the certificate must carry that value. */
function certificateCarriesSubject(certificate: X509Certificate, client: Pick<OAuthClient, TlsClientAuthSubject>): boolean {
  if (client.tls_client_auth_subject_dn !== null) {
    try {
      return sameDistinguishedName(parseCertificateSubject(certificate.subject), parseDistinguishedName(client.tls_client_auth_subject_dn));
    } catch {
      return false;
    }
  }
  const names = subjectAltNames(certificate);
  if (client.tls_client_auth_san_dns !== null) return names.dns.some((name) => name.toLowerCase() === client.tls_client_auth_san_dns!.toLowerCase());
  if (client.tls_client_auth_san_uri !== null) return names.uri.includes(client.tls_client_auth_san_uri);
  if (client.tls_client_auth_san_email !== null) return names.email.some((email) => sameEmail(email, client.tls_client_auth_san_email!));
  if (client.tls_client_auth_san_ip !== null) {
    const expected = parseIpAddress(client.tls_client_auth_san_ip);
    return expected !== undefined && names.ip.some((text) => {
      const address = parseIpAddress(text);
      return address !== undefined && address.family === expected.family && address.value === expected.value;
    });
  }
  return false;
}

/** The local part of an address is the mailbox's to interpret; the domain is case-insensitive. */
function sameEmail(a: string, b: string): boolean {
  const atA = a.lastIndexOf('@');
  const atB = b.lastIndexOf('@');
  if (atA < 0 || atB < 0) return a === b;
  return a.slice(0, atA) === b.slice(0, atB) && a.slice(atA).toLowerCase() === b.slice(atB).toLowerCase();
}

/**
 * Node's `subjectAltName`: `DNS:a.example, URI:https://…, IP Address:192.0.2.1, email:x@y`; a
 * value with a comma or quote in it is written as a JSON string (Node ≥ 17.3.1), so a
 * crafted name cannot pose as two.
 */
export function subjectAltNames(certificate: X509Certificate): { dns: string[]; uri: string[]; ip: string[]; email: string[] } {
  const names = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  const text = certificate.subjectAltName ?? '';
  const entry = /(DNS|URI|IP Address|email|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  let match: RegExpExecArray | null;
  while (entry.lastIndex < text.length && (match = entry.exec(text)) !== null) {
    const raw = match[2]!;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (match[1] === 'DNS') names.dns.push(value);
    else if (match[1] === 'URI') names.uri.push(value);
    else if (match[1] === 'IP Address') names.ip.push(value);
    else if (match[1] === 'email') names.email.push(value);
  }
  return names;
}
