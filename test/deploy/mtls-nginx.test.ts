/**
 * RFC 8705 with Debian's nginx terminating mutual TLS in front of Warta, configured as
 * docs/oidc.md says: `ssl_verify_client optional_no_ca` with the CA of PKI clients, the
 * certificate forwarded as `$ssl_client_escaped_cert` and nginx's verdict on its chain as
 * `$ssl_client_verify`, from 127.0.0.2 (`proxy_bind`), the one address Warta trusts.
 * The clients make real TLS connections with their certificates; nothing is forged but
 * what an attacker could forge.
 */
import 'reflect-metadata';
import { KeyObject, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { certificateThumbprint } from '../../src/oidc/mtls.js';
import { startOidcServerWithPeers } from '../oidc/support.js';
import { NGINX_SOURCE_ADDRESS, nginxFolder, startNginx } from '../support/nginx.js';
import { freePort, issueServerCertificate } from '../support/syslog-collector.js';
import { createTestRootCa, type TestCertificate } from '../support/soft-authenticator.js';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

interface ClientKeyPair {
  certPem: string;
  keyPem: string;
  publicJwk: JsonWebKey;
}

/** A client certificate for a fresh P-256 key: signed by `issuer`, or self-signed without one. */
async function clientCertificate(subject: string, issuer?: TestCertificate): Promise<ClientKeyPair> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000), signingAlgorithm: EC_P256 };
  const certificate = issuer
    ? await x509.X509CertificateGenerator.create({ ...validity, subject, issuer: issuer.name, publicKey: keys.publicKey, signingKey: issuer.signingKey })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...validity, name: subject, keys });
  return {
    certPem: certificate.toString('pem'),
    keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    publicJwk: await crypto.subtle.exportKey('jwk', keys.publicKey),
  };
}

/** nginx terminating TLS on `port`, asking for a client certificate and forwarding it to Warta on `upstream`. */
function startMtlsNginx(dir: string, port: number, upstream: number, files: { serverCert: string; serverKey: string; clientCa: string }): Promise<void> {
  return startNginx(
    dir,
    port,
    `  access_log off;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${files.serverCert};
    ssl_certificate_key ${files.serverKey};
    ssl_verify_client optional_no_ca;
    ssl_client_certificate ${files.clientCa};
    location / {
      proxy_pass http://127.0.0.1:${upstream};
      proxy_bind ${NGINX_SOURCE_ADDRESS};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
      proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
    }
  }`,
  );
}

describe('mutual TLS terminated by a real nginx', { timeout: 120_000 }, () => {
  it('authenticates PKI and self-signed clients by the certificates of their connections, and binds their tokens to them', async () => {
    const dir = nginxFolder('this test terminates mutual TLS in a real nginx');

    const serverCa = await createTestRootCa({ subject: 'C=PL, O=Warta Test, CN=Server CA' });
    const server = await issueServerCertificate(serverCa, { ip: ['127.0.0.1'] });
    const clientCa = await createTestRootCa({ subject: 'C=PL, O=Warta Test, CN=Client CA' });
    const files = { serverCert: path.join(dir, 'server.pem'), serverKey: path.join(dir, 'server.key'), clientCa: path.join(dir, 'client-ca.pem') };
    writeFileSync(files.serverCert, server.certPem);
    writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });
    writeFileSync(files.clientCa, clientCa.certPem);

    const nginxPort = await freePort();
    const issuer = `https://127.0.0.1:${nginxPort}`;
    const warta = await startOidcServerWithPeers({ WARTA_TRUST_PROXY: NGINX_SOURCE_ADDRESS, WARTA_MTLS_CERT_HEADER: 'X-SSL-Client-Cert', WARTA_MTLS_VERIFY_HEADER: 'X-SSL-Client-Verify' }, { issuer });
    await startMtlsNginx(dir, nginxPort, warta.port, files);

    /** fetch over a TLS connection to nginx made with `client`'s certificate (or none). */
    const connectingWith = (client: ClientKeyPair | undefined): typeof fetch =>
      async function mtlsFetch(input, init) {
        const request = new Request(input, init);
        const headers: Record<string, string> = {};
        request.headers.forEach((value, name) => (headers[name] = value));
        const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
        return new Promise<Response>((resolve, reject) => {
          const outgoing = httpsRequest(request.url, { method: request.method, headers, ca: serverCa.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) }, (incoming) => {
            const chunks: Buffer[] = [];
            incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
            incoming.on('end', () => {
              const responseHeaders = new Headers();
              for (const [name, value] of Object.entries(incoming.headers)) for (const item of [value ?? []].flat()) responseHeaders.append(name, item);
              resolve(new Response(incoming.statusCode === 204 ? null : Buffer.concat(chunks), { status: incoming.statusCode!, headers: responseHeaders }));
            });
          });
          outgoing.on('error', reject);
          outgoing.end(body);
        });
      };
    const options = (client: ClientKeyPair | undefined) => ({ [oauth.customFetch]: connectingWith(client) });

    const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), options(undefined)));
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true);

    const register = (metadata: Record<string, unknown>) =>
      registerClient(warta.runtime, { actor: 'test' }, { client_name: 'Service', grant_types: ['client_credentials'], scope: 'payroll.read', tls_client_certificate_bound_access_tokens: true, ...metadata }, { authority: OPERATOR });
    const tokenRequest = (clientId: string, certificate: ClientKeyPair | undefined) => oauth.clientCredentialsGrantRequest(as, { client_id: clientId }, oauth.TlsClientAuth(), { scope: 'payroll.read' }, options(certificate));

    // Self-signed: nginx cannot verify the chain and need not; the key is what Warta matches.
    const selfSigned = await clientCertificate('C=PL, O=Example, CN=payroll-self-signed');
    const selfSignedClient = await register({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [selfSigned.publicJwk] } });
    const selfSignedTokens = await oauth.processClientCredentialsResponse(as, { client_id: selfSignedClient.client_id }, await tokenRequest(selfSignedClient.client_id, selfSigned));
    const selfSignedThumbprint = certificateThumbprint(new X509Certificate(selfSigned.certPem));
    expect(decodeJwt(selfSignedTokens.access_token).cnf).toEqual({ 'x5t#S256': selfSignedThumbprint });
    const introspected = await oauth.processIntrospectionResponse(as, { client_id: selfSignedClient.client_id }, await oauth.introspectionRequest(as, { client_id: selfSignedClient.client_id }, oauth.TlsClientAuth(), selfSignedTokens.access_token, options(selfSigned)));
    expect(introspected).toMatchObject({ active: true, cnf: { 'x5t#S256': selfSignedThumbprint } });

    // PKI: a certificate from the CA nginx trusts, matched by its subject.
    const issued = await clientCertificate('C=PL, O=Example, CN=payroll.example.gov', clientCa);
    const pkiClient = await register({ token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=payroll.example.gov,O=Example,C=PL' });
    const pkiTokens = await oauth.processClientCredentialsResponse(as, { client_id: pkiClient.client_id }, await tokenRequest(pkiClient.client_id, issued));
    expect(decodeJwt(pkiTokens.access_token).cnf).toEqual({ 'x5t#S256': certificateThumbprint(new X509Certificate(issued.certPem)) });

    const refusal = async (response: Response) => ({ status: response.status, body: (await response.json()) as { error: string; error_description: string } });
    // The same subject in a certificate of the client's own making: nginx reports the chain unverified, and Warta refuses.
    const forgedSubject = await clientCertificate('C=PL, O=Example, CN=payroll.example.gov');
    expect(await refusal(await tokenRequest(pkiClient.client_id, forgedSubject))).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: expect.stringMatching(/chain was not verified/) } });
    // Another key than the registered one, and no certificate at all.
    expect(await refusal(await tokenRequest(selfSignedClient.client_id, await clientCertificate('C=PL, O=Example, CN=payroll-self-signed')))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await refusal(await tokenRequest(selfSignedClient.client_id, undefined))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    // A client that sets the header itself is overwritten by nginx (proxy_set_header), and one that goes around nginx is not believed.
    const spoofed = await fetch(`${issuer.replace(String(nginxPort), String(warta.port)).replace('https:', 'http:')}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-ssl-client-cert': encodeURIComponent(selfSigned.certPem), 'x-ssl-client-verify': 'SUCCESS' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: selfSignedClient.client_id }),
    });
    expect(await refusal(spoofed)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const smuggled = await connectingWith(undefined)(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-ssl-client-cert': encodeURIComponent(selfSigned.certPem) },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: selfSignedClient.client_id }),
    });
    expect(await refusal(smuggled)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});
