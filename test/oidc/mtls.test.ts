/**
 * RFC 8705 behind a TLS-terminating proxy: Warta trusts the client certificate header
 * only from the proxy's address (127.0.0.2 here; these requests leave from it, as nginx's
 * `proxy_bind` does in test/deploy), and every other peer's header is as if absent.
 * oauth4webapi is the client where it speaks the flow (its TlsClientAuth over a custom
 * fetch that plays the proxy); the negative cases are plain requests.
 */
import 'reflect-metadata';
import { request as httpRequest } from 'node:http';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { calculateJwkThumbprint, decodeJwt, type JWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { MAX_CERTIFICATE_HEADER_LENGTH, parseForwardedCertificate } from '../../src/http/client-certificate.js';
import { providerMetadata } from '../../src/oidc/discovery.js';
import { parseCertificateSubject, parseDistinguishedName, sameDistinguishedName } from '../../src/crypto/distinguished-name.js';
import { certificateThumbprint } from '../../src/oidc/mtls.js';
import { authorizeWithSession, pkceRequest, REDIRECT_URI, registerWebClient, signedInUser, startOidcServerWithPeers } from './support.js';

const PROXY_ADDRESS = '127.0.0.2';
const CERT_HEADER = 'X-SSL-Client-Cert';
const VERIFY_HEADER = 'X-SSL-Client-Verify';
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const server = await startOidcServerWithPeers({ WARTA_TRUST_PROXY: PROXY_ADDRESS, WARTA_MTLS_CERT_HEADER: CERT_HEADER, WARTA_MTLS_VERIFY_HEADER: VERIFY_HEADER });
const { runtime } = server;

interface ClientCertificate {
  pem: string;
  publicJwk: JsonWebKey;
  thumbprint: string;
}

/** A self-signed client certificate for a fresh P-256 key, with `subject` (RDNs in certificate order, most significant first) and these SANs. */
async function clientCertificate(subject = 'C=PL, O=Example, CN=client.example.gov', names: { type: 'dns' | 'url' | 'ip' | 'email'; value: string }[] = []): Promise<ClientCertificate> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys,
    signingAlgorithm: EC_P256,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  const pem = certificate.toString('pem');
  return { pem, publicJwk: await crypto.subtle.exportKey('jwk', keys.publicKey), thumbprint: certificateThumbprint(new X509Certificate(pem)) };
}

interface ProxyOptions {
  /** The header value as the proxy sends it; by default nginx's `$ssl_client_escaped_cert` of `certificate`. */
  header?: string;
  /** The proxy's verdict on the chain (nginx `$ssl_client_verify`). */
  verify?: string;
  /** The address the request leaves from: the trusted proxy's unless said otherwise. */
  from?: string;
}

/** A fetch that reaches Warta as the proxy would forward a connection made with `certificate`. */
function viaProxy(certificate: ClientCertificate | undefined, options: ProxyOptions = {}): typeof fetch {
  return async function proxiedFetch(input, init) {
    const request = new Request(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const header = options.header ?? (certificate ? encodeURIComponent(certificate.pem) : undefined);
    if (header !== undefined) headers[CERT_HEADER] = header;
    headers[VERIFY_HEADER] = options.verify ?? (certificate ? 'FAILED:self-signed certificate' : 'NONE');
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpRequest(request.url, { method: request.method, headers, localAddress: options.from ?? PROXY_ADDRESS }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) for (const item of [value ?? []].flat()) responseHeaders.append(name, item);
          const status = incoming.statusCode!;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };
}

async function postVia(proxied: typeof fetch, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await proxied(server.url(path), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function userinfoVia(proxied: typeof fetch, accessToken: string): Promise<{ status: number; challenge: string | null }> {
  const response = await proxied(server.url('/userinfo'), { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}

const as = await oauth.processDiscoveryResponse(new URL(server.issuer), await oauth.discoveryRequest(new URL(server.issuer), { [oauth.allowInsecureRequests]: true }));

/** A service (client_credentials) that authenticates with its self-signed certificate, and gets certificate-bound tokens. */
async function selfSignedService(certificate: ClientCertificate, overrides: Record<string, unknown> = {}) {
  return registerClient(runtime, { actor: 'test' }, {
    client_name: 'Payroll service',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks: { keys: [certificate.publicJwk] },
    scope: 'payroll.read',
    tls_client_certificate_bound_access_tokens: true,
    ...overrides,
  }, { authority: OPERATOR });
}

async function clientCredentialsToken(clientId: string, proxied: typeof fetch) {
  const response = await oauth.clientCredentialsGrantRequest(as, { client_id: clientId }, oauth.TlsClientAuth(), { scope: 'payroll.read' }, { [oauth.customFetch]: proxied, [oauth.allowInsecureRequests]: true });
  return oauth.processClientCredentialsResponse(as, { client_id: clientId }, response);
}

describe('discovery', () => {
  it('advertises the mTLS methods and certificate-bound tokens only when a proxy forwards certificates', () => {
    expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(as.introspection_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(as.mtls_endpoint_aliases).toBeUndefined();

    const off = providerMetadata({ issuer: 'https://id.example.gov' });
    expect(off.token_endpoint_auth_methods_supported).not.toContain('self_signed_tls_client_auth');
    expect(off.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth');
    expect(off.tls_client_certificate_bound_access_tokens).toBe(false);
    // Without the proxy's verdict on the chain, the PKI method cannot be offered.
    const selfSignedOnly = providerMetadata({ issuer: 'https://id.example.gov', clientCertificate: { header: 'x-ssl-client-cert', verifyHeader: undefined } });
    expect(selfSignedOnly.token_endpoint_auth_methods_supported).toContain('self_signed_tls_client_auth');
    expect(selfSignedOnly.token_endpoint_auth_methods_supported).not.toContain('tls_client_auth');
  });
});

describe('self_signed_tls_client_auth (RFC 8705 §2.2)', () => {
  it('authenticates a client by the key of its certificate and binds its access token to the certificate', async () => {
    const certificate = await clientCertificate();
    const client = await selfSignedService(certificate);
    const tokens = await clientCredentialsToken(client.client_id, viaProxy(certificate));
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
    // The thumbprint is base64url(SHA-256(DER)), RFC 8705 §3.1.
    const der = new X509Certificate(certificate.pem).raw;
    expect(certificate.thumbprint).toBe(createHash('sha256').update(der).digest('base64url'));

    // Introspection, by the same client over mTLS, returns the binding for the resource server to check (§3.2).
    const response = await oauth.introspectionRequest(as, { client_id: client.client_id }, oauth.TlsClientAuth(), tokens.access_token, { [oauth.customFetch]: viaProxy(certificate), [oauth.allowInsecureRequests]: true });
    const introspection = await oauth.processIntrospectionResponse(as, { client_id: client.client_id }, response);
    expect(introspection).toMatchObject({ active: true, client_id: client.client_id, cnf: { 'x5t#S256': certificate.thumbprint } });

    // And revokes it, authenticated the same way.
    const revoked = await oauth.revocationRequest(as, { client_id: client.client_id }, oauth.TlsClientAuth(), tokens.access_token, { [oauth.customFetch]: viaProxy(certificate), [oauth.allowInsecureRequests]: true });
    await oauth.processRevocationResponse(revoked);
    const after = await postVia(viaProxy(certificate), '/introspect', { client_id: client.client_id, token: tokens.access_token });
    expect(after.body).toEqual({ active: false });
  });

  it('refuses a certificate with another key, no certificate, and a certificate sent from an address that is not the proxy', async () => {
    const certificate = await clientCertificate();
    const client = await selfSignedService(certificate);
    const form = { grant_type: 'client_credentials', client_id: client.client_id, scope: 'payroll.read' };

    const impostor = await clientCertificate(); // same subject, another key
    const wrongKey = await postVia(viaProxy(impostor), '/token', form);
    expect(wrongKey).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(wrongKey.body.error_description).toMatch(/not one of the client's registered keys/);

    const none = await postVia(viaProxy(undefined), '/token', form);
    expect(none).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(none.body.error_description).toMatch(/presented none/);

    // The right certificate in the header, from 127.0.0.1: anyone who reaches Warta directly could write it, so it counts for nothing.
    const direct = await postVia(viaProxy(certificate, { from: '127.0.0.1' }), '/token', form);
    expect(direct).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(direct.body.error_description).toMatch(/presented none/);
  });

  it('authenticates at the PAR endpoint', async () => {
    const certificate = await clientCertificate();
    const client = await registerWebClient(runtime, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certificate.publicJwk] } });
    const { params } = await pkceRequest(client);
    const pushed = await postVia(viaProxy(certificate), '/par', params);
    expect(pushed.status).toBe(201);
    expect(pushed.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect((await postVia(viaProxy(await clientCertificate()), '/par', params)).status).toBe(401);
  });
});

describe('tls_client_auth (RFC 8705 §2.1)', () => {
  const pkiClient = (subject: Record<string, string>) =>
    registerClient(runtime, { actor: 'test' }, { client_name: 'PKI service', grant_types: ['client_credentials'], token_endpoint_auth_method: 'tls_client_auth', scope: 'payroll.read', ...subject }, { authority: OPERATOR });
  const tokenStatus = async (clientId: string, certificate: ClientCertificate, verify = 'SUCCESS') =>
    postVia(viaProxy(certificate, { verify }), '/token', { grant_type: 'client_credentials', client_id: clientId, scope: 'payroll.read' });

  it('matches the registered subject DN, whatever the spacing and case of the registration', async () => {
    const certificate = await clientCertificate('C=PL, OU=Finance+O=Example\\, Ltd, CN=payroll.example.gov');
    const client = await pkiClient({ tls_client_auth_subject_dn: 'cn=Payroll.Example.gov,O=Example\\, Ltd + OU=finance,C=PL' });
    const tokens = await clientCredentialsToken(client.client_id, viaProxy(certificate, { verify: 'SUCCESS' }));
    // No tls_client_certificate_bound_access_tokens: a bearer token (§3 binding is the client's choice).
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();

    const other = await clientCertificate('C=PL, O=Other, CN=payroll.example.gov');
    expect(await tokenStatus(client.client_id, other)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('matches a registered SAN of each type', async () => {
    const certificate = await clientCertificate('CN=anything', [
      { type: 'dns', value: 'svc.example.gov' },
      { type: 'url', value: 'https://svc.example.gov/client' },
      { type: 'ip', value: '2001:db8::7' },
      { type: 'email', value: 'ops@Example.gov' },
    ]);
    for (const subject of [
      { tls_client_auth_san_dns: 'SVC.example.gov' } as Record<string, string>,
      { tls_client_auth_san_uri: 'https://svc.example.gov/client' },
      { tls_client_auth_san_ip: '2001:db8:0::7' },
      { tls_client_auth_san_email: 'ops@example.gov' },
    ]) {
      const client = await pkiClient(subject);
      expect((await tokenStatus(client.client_id, certificate)).status, JSON.stringify(subject)).toBe(200);
    }
    for (const subject of [{ tls_client_auth_san_dns: 'other.example.gov' } as Record<string, string>, { tls_client_auth_san_uri: 'https://svc.example.gov/' }, { tls_client_auth_san_ip: '2001:db8::8' }, { tls_client_auth_san_email: 'OPS@example.gov' }]) {
      const client = await pkiClient(subject);
      expect(await tokenStatus(client.client_id, certificate), JSON.stringify(subject)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    }
  });

  it('refuses the right subject when the proxy did not verify the chain: anyone can write a subject into a self-signed certificate', async () => {
    const certificate = await clientCertificate('CN=payroll.example.gov');
    const client = await pkiClient({ tls_client_auth_subject_dn: 'CN=payroll.example.gov' });
    for (const verify of ['FAILED:unable to get local issuer certificate', 'NONE', '']) {
      const refused = await tokenStatus(client.client_id, certificate, verify);
      expect(refused, verify).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(refused.body.error_description).toMatch(/chain was not verified/);
    }
    // The verdict, too, is believed only from the proxy.
    expect((await postVia(viaProxy(certificate, { verify: 'SUCCESS', from: '127.0.0.1' }), '/token', { grant_type: 'client_credentials', client_id: client.client_id })).status).toBe(401);
    expect((await tokenStatus(client.client_id, certificate)).status).toBe(200);
  });
});

describe('the forwarded certificate header', () => {
  it('accepts URL-encoded PEM, PEM with its line breaks turned to spaces, and base64 DER', async () => {
    const certificate = await clientCertificate();
    const der = new X509Certificate(certificate.pem).raw;
    for (const value of [encodeURIComponent(certificate.pem), certificate.pem.replace(/\n/g, ' '), der.toString('base64'), der.toString('base64url')])
      expect(certificateThumbprint(parseForwardedCertificate(value)!)).toBe(certificate.thumbprint);
    expect(parseForwardedCertificate('')).toBeUndefined();
  });

  it('answers a malformed, oversized or chained header with 400 invalid_request, never 500, and only when it comes from the proxy', async () => {
    const certificate = await clientCertificate();
    const client = await selfSignedService(certificate);
    const form = { grant_type: 'client_credentials', client_id: client.client_id };
    const chain = encodeURIComponent(certificate.pem + (await clientCertificate()).pem);
    const notACertificate = encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    for (const header of ['%E0%A4%A', 'hello world', chain, notACertificate, 'A'.repeat(MAX_CERTIFICATE_HEADER_LENGTH + 4)]) {
      const reply = await postVia(viaProxy(certificate, { header }), '/token', form);
      expect(reply, header.slice(0, 30)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(reply.body.error_description).toMatch(/^the client certificate forwarded by the proxy /);
      // From another address the header is not read at all: no certificate, so the client fails to authenticate.
      expect((await postVia(viaProxy(certificate, { header, from: '127.0.0.1' }), '/token', form)).status).toBe(401);
    }
    const userinfo = await userinfoVia(viaProxy(certificate, { header: 'garbage!' }), 'x.y.z');
    expect(userinfo.status).toBe(400);
  });
});

describe('certificate-bound access and refresh tokens (RFC 8705 §3, §4)', () => {
  /** A signed-in user's tokens for `client`, the code redeemed over `proxied`. */
  async function userTokens(client: { client_id: string }, proxied: typeof fetch, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const { cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client);
    const callback = await authorizeWithSession(server, request.params, cookie);
    return postVia(proxied, '/token', { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier, client_id: client.client_id, ...extra }, headers);
  }

  it('lets userinfo answer only over a connection with the token\'s certificate', async () => {
    const certificate = await clientCertificate();
    const client = await registerWebClient(runtime, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certificate.publicJwk] }, tls_client_certificate_bound_access_tokens: true });
    const issued = await userTokens(client, viaProxy(certificate));
    expect(issued.status).toBe(200);
    const accessToken = issued.body.access_token as string;
    expect(decodeJwt(accessToken).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });

    const userinfo = await oauth.userInfoRequest(as, { client_id: client.client_id }, accessToken, { [oauth.customFetch]: viaProxy(certificate), [oauth.allowInsecureRequests]: true });
    expect(userinfo.status).toBe(200);

    for (const [what, proxied] of [
      ['another certificate', viaProxy(await clientCertificate())],
      ['no certificate', viaProxy(undefined)],
      ['the certificate from an address that is not the proxy', viaProxy(certificate, { from: '127.0.0.1' })],
    ] as const) {
      const refused = await userinfoVia(proxied, accessToken);
      expect(refused.status, what).toBe(401);
      expect(refused.challenge, what).toMatch(/^Bearer realm="warta", error="invalid_token"/);
    }
  });

  it('refuses to issue a certificate-bound client its tokens without its certificate', async () => {
    const client = await registerWebClient(runtime, { tls_client_certificate_bound_access_tokens: true, grant_types: ['client_credentials'], redirect_uris: [], post_logout_redirect_uris: [], scope: 'payroll.read' });
    const basic = { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` };
    const refused = await postVia(viaProxy(undefined), '/token', { grant_type: 'client_credentials' }, basic);
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    // A client secret client may still bind its tokens to a certificate (§3 is independent of client authentication).
    const certificate = await clientCertificate();
    const bound = await postVia(viaProxy(certificate), '/token', { grant_type: 'client_credentials' }, basic);
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
  });

  it('binds a public client\'s refresh tokens to its certificate', async () => {
    const certificate = await clientCertificate();
    const client = await registerWebClient(runtime, { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:8765/callback'], post_logout_redirect_uris: [], first_party: true, tls_client_certificate_bound_access_tokens: true });
    const issued = await userTokens(client, viaProxy(certificate));
    expect(issued.status).toBe(200);
    const refreshToken = issued.body.refresh_token as string;
    const refresh = (proxied: typeof fetch) => postVia(proxied, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.client_id });

    const stolen = await refresh(viaProxy(await clientCertificate()));
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'the refresh token is bound to a different TLS client certificate' } });
    expect((await refresh(viaProxy(certificate, { from: '127.0.0.1' }))).status).toBe(400);
    const refreshed = await refresh(viaProxy(certificate));
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
  });

  it('binds a token requested with DPoP to both the key and the certificate, and checks both', async () => {
    const certificate = await clientCertificate();
    const client = await selfSignedService(certificate);
    const dpopKeys = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP({}, dpopKeys);
    const options = { [oauth.customFetch]: viaProxy(certificate), [oauth.allowInsecureRequests]: true, DPoP: dpop };
    const response = await oauth.clientCredentialsGrantRequest(as, { client_id: client.client_id }, oauth.TlsClientAuth(), { scope: 'payroll.read' }, options);
    const tokens = await oauth.processClientCredentialsResponse(as, { client_id: client.client_id }, response);
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint((await crypto.subtle.exportKey('jwk', dpopKeys.publicKey)) as JWK);
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt, 'x5t#S256': certificate.thumbprint });
    // Introspection reports both bindings; a resource server must check each.
    const introspection = await postVia(viaProxy(certificate), '/introspect', { client_id: client.client_id, token: tokens.access_token });
    expect(introspection.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt, 'x5t#S256': certificate.thumbprint } });
  });

  it('accepts a token bound to a DPoP key and a certificate at userinfo only with the proof and the certificate', async () => {
    const certificate = await clientCertificate();
    const client = await registerWebClient(runtime, { token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certificate.publicJwk] }, tls_client_certificate_bound_access_tokens: true });
    const dpopKeys = await oauth.generateKeyPair('ES256');
    const proof = (method: string, url: string, accessToken?: string) =>
      new SignJWT({ htm: method, htu: url, jti: randomUUID(), ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: exportedJwk })
        .setIssuedAt()
        .sign(dpopKeys.privateKey);
    const exportedJwk = (await crypto.subtle.exportKey('jwk', dpopKeys.publicKey)) as JWK;
    const issued = await userTokens(client, viaProxy(certificate), {}, { dpop: await proof('POST', server.url('/token')) });
    expect(issued).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    const accessToken = issued.body.access_token as string;
    const userinfo = async (proxied: typeof fetch, withProof: boolean) =>
      (await proxied(server.url('/userinfo'), { headers: { authorization: `DPoP ${accessToken}`, ...(withProof ? { dpop: await proof('GET', server.url('/userinfo'), accessToken) } : {}) } })).status;
    expect(await userinfo(viaProxy(certificate), false)).toBe(401);
    expect(await userinfo(viaProxy(undefined), true)).toBe(401);
    expect(await userinfo(viaProxy(await clientCertificate()), true)).toBe(401);
    expect(await userinfo(viaProxy(certificate), true)).toBe(200);
  });
});

describe('the trusted proxy\'s other header', () => {
  it('takes the client address from X-Forwarded-For only when the peer is a listed proxy', async () => {
    const client = await registerWebClient(runtime, { grant_types: ['client_credentials'], redirect_uris: [], post_logout_redirect_uris: [], scope: 'payroll.read' });
    const basic = { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` };
    const revokedFrom = async (from: string, claimed: string) => {
      const token = (await postVia(viaProxy(undefined, { from }), '/token', { grant_type: 'client_credentials' }, basic)).body.access_token as string;
      expect((await postVia(viaProxy(undefined, { from }), '/revoke', { token }, { ...basic, 'x-forwarded-for': claimed })).status).toBe(200);
      const jti = decodeJwt(token).jti as string;
      const entries = await runtime.db.selectFrom('audit_log').select(['ip', 'details']).where('action', '=', 'oidc.access_token_revoked').execute();
      return entries.find((entry) => (entry.details as { jti?: string }).jti === jti)?.ip;
    };
    expect(await revokedFrom(PROXY_ADDRESS, '203.0.113.9')).toBe('203.0.113.9');
    expect(await revokedFrom('127.0.0.1', '203.0.113.7')).toBe('127.0.0.1');
  });
});

describe('registration (RFC 8705 §2.1.2, §2.2.2)', () => {
  const register = (metadata: Record<string, unknown>) =>
    registerClient(runtime, { actor: 'test' }, { client_name: 'Refused', grant_types: ['client_credentials'], scope: 'payroll.read', ...metadata }, { authority: OPERATOR }).then(
      () => 'registered',
      (error: { code?: string; description?: string }) => `${error.code}: ${error.description}`,
    );

  it('refuses a tls_client_auth client without exactly one valid subject value, and subject values on any other client', async () => {
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth' })).toMatch(/^invalid_client_metadata: tls_client_auth needs exactly one of/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=a', tls_client_auth_san_dns: 'a.example' })).toMatch(/^invalid_client_metadata: tls_client_auth needs exactly one/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'not a dn' })).toMatch(/^invalid_client_metadata: tls_client_auth_subject_dn must be an RFC 4514/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=#0403616263' })).toMatch(/^invalid_client_metadata: .*hex-encoded/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_ip: '300.1.1.1' })).toMatch(/^invalid_client_metadata: tls_client_auth_san_ip/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_uri: 'not-absolute' })).toMatch(/^invalid_client_metadata: tls_client_auth_san_uri/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 12 })).toMatch(/^invalid_client_metadata: tls_client_auth_san_dns must be a string/);
    expect(await register({ token_endpoint_auth_method: 'client_secret_basic', tls_client_auth_san_dns: 'a.example' })).toMatch(/^invalid_client_metadata: tls_client_auth_san_dns is only used with tls_client_auth/);
    expect(await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_dns: 'a.example' })).toBe('registered');
  });

  it('refuses a self_signed_tls_client_auth client without jwks or with a key that cannot be read', async () => {
    const certificate = await clientCertificate();
    expect(await register({ token_endpoint_auth_method: 'self_signed_tls_client_auth' })).toMatch(/^invalid_client_metadata: self_signed_tls_client_auth needs jwks/);
    expect(await register({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA' }] } })).toMatch(/^invalid_client_metadata: every jwks key of a self_signed_tls_client_auth client/);
    expect(await register({ token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [certificate.publicJwk] } })).toMatch(/^invalid_client_metadata: jwks is only used with/);
    expect(await register({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certificate.publicJwk] }, tls_client_certificate_bound_access_tokens: 'yes' })).toMatch(/^invalid_client_metadata: tls_client_certificate_bound_access_tokens must be true or false/);
    expect(await register({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [certificate.publicJwk] } })).toBe('registered');
  });
});

describe('distinguished names', () => {
  it('reads RFC 4514 strings least significant RDN first and compares them with the certificate\'s subject', async () => {
    const subject = parseCertificateSubject(new X509Certificate((await clientCertificate('C=PL, O=Example, CN=Static Client')).pem).subject);
    expect(sameDistinguishedName(subject, parseDistinguishedName('CN=Static Client,O=Example,C=PL'))).toBe(true);
    expect(sameDistinguishedName(subject, parseDistinguishedName('C=PL,O=Example,CN=Static Client'))).toBe(false);
    expect(sameDistinguishedName(subject, parseDistinguishedName('CN=Static Client,O=Example'))).toBe(false);
    expect(sameDistinguishedName(subject, parseDistinguishedName('2.5.4.3=static   client, o=EXAMPLE, c=pl'))).toBe(true);
    expect(parseDistinguishedName('CN=a\\,b\\2Bc,O=x')).toEqual([[{ type: 'O', value: 'x' }], [{ type: 'CN', value: 'a,b+c' }]]);
    expect(() => parseDistinguishedName('CN=a\\')).toThrow(/lone backslash/);
    expect(() => parseDistinguishedName('=a')).toThrow(/type=value/);
  });
});

describe('a fapi2 client over mutual TLS (FAPI 2.0 SP §5.3.2.1)', () => {
  it('authenticates with its certificate and gets certificate-bound tokens without DPoP; without that binding it must send a DPoP proof', async () => {
    const certificate = await clientCertificate();
    const bound = await selfSignedService(certificate, { security_profile: 'fapi2' });
    expect(bound).toMatchObject({ security_profile: 'fapi2', require_pushed_authorization_requests: true, dpop_bound_access_tokens: false, tls_client_certificate_bound_access_tokens: true });
    const tokens = await clientCredentialsToken(bound.client_id, viaProxy(certificate));
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });

    const other = await clientCertificate();
    const unbound = await selfSignedService(other, { security_profile: 'fapi2', tls_client_certificate_bound_access_tokens: false });
    expect(unbound.dpop_bound_access_tokens).toBe(true);
    const refused = await postVia(viaProxy(other), '/token', { grant_type: 'client_credentials', client_id: unbound.client_id });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
