/**
 * The client certificate of a mutual-TLS connection (RFC 8705) that a TLS-terminating
 * proxy received and forwards in a header (`WARTA_MTLS_CERT_HEADER`). Warta never sees
 * the handshake: the proxy proved the client holds the certificate's private key, and
 * only a trusted proxy's header is read at all (`WARTA_TRUST_PROXY` naming its
 * addresses); from any other peer the header is ignored, as if absent.
 *
 * Accepted encodings, one certificate (the client's own, no chain):
 *  - URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`, AWS ALB and Envoy's XFCC `Cert=` give it;
 *  - PEM whose line breaks the proxy turned into spaces;
 *  - base64 (or base64url) DER without PEM armour, as Caddy and Traefik give it.
 * Anything else, or more than MAX_CERTIFICATE_HEADER_LENGTH characters, is a 400: the
 * proxy is misconfigured, and guessing would make some other bytes a credential.
 */
import { X509Certificate } from 'node:crypto';
import type { Context } from 'hono';
import type { ClientCertificateSettings } from '../config.js';
import { WartaError } from '../errors.js';
import { peerAddress } from './context.js';
import { isTrustedProxy, type ProxyTrust } from './proxy-trust.js';

/** A URL-encoded PEM of a 4096-bit RSA certificate with a dozen SANs is about 3 KB; Node's header limit is 16 KB in all. */
export const MAX_CERTIFICATE_HEADER_LENGTH = 12 * 1024;

export interface PresentedClientCertificate {
  certificate: X509Certificate;
  /** The proxy verified the chain to a CA it trusts (its verify header said SUCCESS): the PKI method (tls_client_auth) may rely on the subject. */
  chainVerified: boolean;
}

const malformed = (description: string) => new WartaError(400, 'invalid_request', `the client certificate forwarded by the proxy ${description}`);

const PEM = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----\s*$/;
const BASE64_DER = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The certificate in one header value, or undefined for an empty value (nginx's when the client sent none). */
export function parseForwardedCertificate(value: string): X509Certificate | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  if (text.length > MAX_CERTIFICATE_HEADER_LENGTH) throw malformed(`is longer than ${MAX_CERTIFICATE_HEADER_LENGTH} characters`);
  let der: Buffer;
  if (BASE64_DER.test(text)) {
    der = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  } else {
    let pem: string;
    try {
      pem = text.includes('%') ? decodeURIComponent(text) : text;
    } catch {
      throw malformed('is not URL-encoded correctly');
    }
    const match = PEM.exec(pem.trim());
    if (!match) throw malformed('is not one PEM certificate (URL-encoded) nor base64 DER');
    der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  }
  try {
    return new X509Certificate(der);
  } catch {
    throw malformed('is not an X.509 certificate');
  }
}

/**
 * The certificate the request's proxy forwarded, or undefined when mTLS is off, the
 * peer is not a trusted proxy, or no certificate was sent.
 */
export function readClientCertificate(c: Context, settings: { trustProxy: ProxyTrust; clientCertificate: ClientCertificateSettings | undefined }): PresentedClientCertificate | undefined {
  const { clientCertificate } = settings;
  if (clientCertificate === undefined) return undefined;
  if (!isTrustedProxy(settings.trustProxy, peerAddress(c))) return undefined;
  const value = c.req.header(clientCertificate.header);
  if (value === undefined) return undefined;
  const certificate = parseForwardedCertificate(value);
  if (certificate === undefined) return undefined;
  const verdict = clientCertificate.verifyHeader === undefined ? undefined : c.req.header(clientCertificate.verifyHeader);
  return { certificate, chainVerified: verdict?.trim() === 'SUCCESS' };
}
