import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { isTrustedProxy } from '../src/http/proxy-trust.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has working defaults for development: port 3000, issuer on localhost, embedded database', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database.url).toBeUndefined();
    expect(config.masterKey.source).toBe('generated');
    expect(config.webauthn.rpId).toBe('localhost');
    expect(config.webauthn.allowedOrigins).toEqual(['http://localhost:3000']);
    expect(config.secureCookies).toBe(false);
  });

  it('names the variable and what it expects in one line', () => {
    expect(errorOf({ PORT: 'eighty' }).message).toBe('PORT: expected a whole number from 0 to 65535, got "eighty"');
    expect(errorOf({ PORT: '70000' }).variable).toBe('PORT');
    expect(errorOf({ WARTA_ISSUER: 'not a url' }).variable).toBe('WARTA_ISSUER');
    expect(errorOf({ WARTA_ISSUER: 'https://id.example.gov/?x=1' }).message).toMatch(/query or fragment/);
    expect(errorOf({ DATABASE_URL: 'mysql://x' }).variable).toBe('DATABASE_URL');
    expect(errorOf({ WARTA_MASTER_KEY: 'short' }).message).toMatch(/32 random bytes/);
    expect(errorOf({ WARTA_MASTER_KEY: KEY, WARTA_MASTER_KEY_FILE: '/x' }).message).toMatch(/not both/);
    expect(errorOf({ WARTA_MASTER_KEY_FILE: '/nonexistent/key' }).message).toMatch(/cannot read/);
    expect(errorOf({ WARTA_TRUST_PROXY: 'maybe' }).variable).toBe('WARTA_TRUST_PROXY');
    expect(errorOf({ WARTA_LOG_LEVEL: 'loud' }).variable).toBe('WARTA_LOG_LEVEL');
    expect(errorOf({ WARTA_ALLOWED_ORIGINS: 'https://app.example.gov/path' }).variable).toBe('WARTA_ALLOWED_ORIGINS');
    expect(errorOf({ WARTA_ISSUER: 'https://id.example.gov', WARTA_RP_ID: 'evil.example' }).variable).toBe('WARTA_RP_ID');
  });

  it('refuses to start in production without a master key or with a plain-http public issuer', () => {
    expect(errorOf({ NODE_ENV: 'production', WARTA_ISSUER: 'https://id.example.gov' }).variable).toBe('WARTA_MASTER_KEY');
    expect(errorOf({ NODE_ENV: 'production', WARTA_MASTER_KEY: KEY, WARTA_ISSUER: 'http://id.example.gov' }).variable).toBe('WARTA_ISSUER');
  });

  it('bounds how long a client may take to send a request, with the header deadline inside the request deadline', () => {
    expect(loadConfig({}).http).toMatchObject({ headersTimeoutSeconds: 20, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 5 });
    expect(loadConfig({ WARTA_HTTP_HEADERS_TIMEOUT_SECONDS: '5', WARTA_HTTP_REQUEST_TIMEOUT_SECONDS: '5', WARTA_HTTP_KEEPALIVE_TIMEOUT_SECONDS: '65' }).http).toMatchObject({
      headersTimeoutSeconds: 5,
      requestTimeoutSeconds: 5,
      keepAliveTimeoutSeconds: 65,
    });
    // 0 would switch Node's limit off: the 300 s default this setting exists to replace, or none at all.
    for (const name of ['WARTA_HTTP_HEADERS_TIMEOUT_SECONDS', 'WARTA_HTTP_REQUEST_TIMEOUT_SECONDS', 'WARTA_HTTP_KEEPALIVE_TIMEOUT_SECONDS']) {
      expect(errorOf({ [name]: '0' }).variable).toBe(name);
      expect(errorOf({ [name]: 'soon' }).message).toMatch(new RegExp(`^${name}: expected a whole number`));
    }
    expect(errorOf({ WARTA_HTTP_HEADERS_TIMEOUT_SECONDS: '40' }).message).toBe('WARTA_HTTP_HEADERS_TIMEOUT_SECONDS: must not be above WARTA_HTTP_REQUEST_TIMEOUT_SECONDS (30)');
  });

  it('reads the master key from a file, and accepts extra web origins', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warta-config-'));
    const file = path.join(dir, 'master.key');
    writeFileSync(file, `${KEY}\n`);
    const config = loadConfig({ WARTA_MASTER_KEY_FILE: file, WARTA_ISSUER: 'https://id.example.gov', WARTA_ALLOWED_ORIGINS: 'https://web.example.gov' });
    expect(config.masterKey).toMatchObject({ source: 'file', base64: KEY });
    expect(config.webauthn.allowedOrigins).toEqual(['https://id.example.gov', 'https://web.example.gov']);
    expect(config.secureCookies).toBe(true);
  });
});

describe('proxy trust and forwarded client certificates (RFC 8705)', () => {
  it('trusts any peer with true, none with false, and only the listed addresses and networks otherwise', () => {
    expect(loadConfig({}).http.trustProxy).toEqual({ kind: 'none' });
    expect(loadConfig({ WARTA_TRUST_PROXY: 'true' }).http.trustProxy).toEqual({ kind: 'any' });
    const listed = loadConfig({ WARTA_TRUST_PROXY: '127.0.0.2, 10.20.0.0/16, [fd00::1]' }).http.trustProxy;
    expect(listed).toMatchObject({ kind: 'networks', entries: ['127.0.0.2/32', '10.20.0.0/16', 'fd00::1/128'] });
    for (const [peer, trusted] of [['127.0.0.2', true], ['::ffff:127.0.0.2', true], ['10.20.9.9', true], ['fd00::1', true], ['127.0.0.1', false], ['10.21.0.1', false], [null, false]] as const)
      expect(isTrustedProxy(listed, peer), String(peer)).toBe(trusted);
    expect(isTrustedProxy({ kind: 'none' }, '127.0.0.1')).toBe(false);
    expect(errorOf({ WARTA_TRUST_PROXY: '10.0.0.1/8' }).message).toMatch(/^WARTA_TRUST_PROXY: .*"10.0.0.1\/8" is not an IPv4 or IPv6 address or network/);
    expect(errorOf({ WARTA_TRUST_PROXY: 'proxy.internal' }).variable).toBe('WARTA_TRUST_PROXY');
    expect(errorOf({ WARTA_TRUST_PROXY: ' , ' }).variable).toBe('WARTA_TRUST_PROXY');
  });

  it('is off unless a header is named, and believes the header only from proxies named by address', () => {
    expect(loadConfig({}).http.clientCertificate).toBeUndefined();
    expect(loadConfig({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_CERT_HEADER: 'X-SSL-Client-Cert', WARTA_MTLS_VERIFY_HEADER: 'X-SSL-Client-Verify' }).http.clientCertificate).toEqual({ header: 'x-ssl-client-cert', verifyHeader: 'x-ssl-client-verify' });
    expect(loadConfig({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_CERT_HEADER: 'X-SSL-Client-Cert' }).http.clientCertificate).toEqual({ header: 'x-ssl-client-cert', verifyHeader: undefined });
    // `true` trusts any peer the network lets through: whoever reaches Warta could name any client's certificate.
    expect(errorOf({ WARTA_TRUST_PROXY: 'true', WARTA_MTLS_CERT_HEADER: 'X-SSL-Client-Cert' }).message).toMatch(/^WARTA_MTLS_CERT_HEADER: the forwarded certificate is believed only from the proxy/);
    expect(errorOf({ WARTA_MTLS_CERT_HEADER: 'X-SSL-Client-Cert' }).variable).toBe('WARTA_MTLS_CERT_HEADER');
    expect(errorOf({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_CERT_HEADER: 'X SSL: cert' }).message).toMatch(/expected an HTTP header name/);
    expect(errorOf({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_CERT_HEADER: 'Authorization' }).message).toMatch(/carries something else/);
    expect(errorOf({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_VERIFY_HEADER: 'X-SSL-Client-Verify' }).message).toMatch(/only meaningful with WARTA_MTLS_CERT_HEADER/);
    expect(errorOf({ WARTA_TRUST_PROXY: '127.0.0.1', WARTA_MTLS_CERT_HEADER: 'X-Cert', WARTA_MTLS_VERIFY_HEADER: 'x-cert' }).message).toMatch(/must differ/);
  });
});

describe('native apps (WARTA_ANDROID_APPS, WARTA_APPLE_APP_IDS)', () => {
  const RELEASE = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const UPLOAD = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const apkKeyHash = (fingerprint: string) => `android:apk-key-hash:${Buffer.from(fingerprint.replaceAll(':', ''), 'hex').toString('base64url')}`;

  it('reads packages with one or more certificate fingerprints and derives one passkey origin per certificate', () => {
    const config = loadConfig({ WARTA_ISSUER: 'https://id.example.gov', WARTA_ANDROID_APPS: ` gov.example.messenger=${RELEASE.toLowerCase()}|${UPLOAD} , gov.example.desk=${RELEASE}` });
    expect(config.nativeApps.android).toEqual([
      { packageName: 'gov.example.messenger', sha256CertFingerprints: [RELEASE, UPLOAD] },
      { packageName: 'gov.example.desk', sha256CertFingerprints: [RELEASE] },
    ]);
    expect(config.webauthn.allowedOrigins).toEqual(['https://id.example.gov', apkKeyHash(RELEASE), apkKeyHash(UPLOAD)]);
    expect(apkKeyHash(RELEASE)).toMatch(/^android:apk-key-hash:[A-Za-z0-9_-]{43}$/);
  });

  it('reads Apple app ids and adds no origin for them (iOS sends the web origin)', () => {
    const config = loadConfig({ WARTA_ISSUER: 'https://id.example.gov', WARTA_APPLE_APP_IDS: 'ABCDE12345.gov.example.messenger, ABCDE12345.gov.example.desk' });
    expect(config.nativeApps.appleAppIds).toEqual(['ABCDE12345.gov.example.messenger', 'ABCDE12345.gov.example.desk']);
    expect(config.webauthn.allowedOrigins).toEqual(['https://id.example.gov']);
  });

  it('has no native apps by default', () => {
    expect(loadConfig({}).nativeApps).toEqual({ android: [], appleAppIds: [] });
  });

  it('refuses malformed Android apps at start-up, naming the variable', () => {
    for (const value of [
      'gov.example.messenger',
      `gov.example.messenger=${RELEASE.slice(3)}`,
      `gov.example.messenger=${RELEASE}:00`,
      `gov.example.messenger=${RELEASE.replaceAll(':', '')}`,
      `gov.example.messenger=${RELEASE.replace(/^../, 'ZZ')}`,
      `gov.example.messenger=${RELEASE}|`,
      `messenger=${RELEASE}`,
      `gov.example.1messenger=${RELEASE}`,
      `gov.example.messenger=${RELEASE}=${UPLOAD}`,
      `gov.example.messenger=${RELEASE},gov.example.messenger=${UPLOAD}`,
      `gov.example.messenger=${RELEASE},`,
    ]) expect(errorOf({ WARTA_ANDROID_APPS: value }).variable, value).toBe('WARTA_ANDROID_APPS');
    expect(errorOf({ WARTA_ANDROID_APPS: `gov.example.messenger=${RELEASE.slice(3)}` }).message).toMatch(/SHA-256 certificate fingerprint \(32 bytes/);
  });

  it('refuses malformed Apple app ids at start-up', () => {
    for (const value of ['gov.example.messenger', 'ABCDE1234.gov.example.messenger', 'abcde12345.gov.example.messenger', 'ABCDE12345.', 'ABCDE12345.gov example']) expect(errorOf({ WARTA_APPLE_APP_IDS: value }).variable, value).toBe('WARTA_APPLE_APP_IDS');
  });

  it('refuses native origins in WARTA_ALLOWED_ORIGINS and says where they belong', () => {
    expect(errorOf({ WARTA_ALLOWED_ORIGINS: 'android:apk-key-hash:abc123' }).message).toMatch(/WARTA_ANDROID_APPS/);
    expect(errorOf({ WARTA_ALLOWED_ORIGINS: 'ios:bundle-id:gov.example.messenger' }).message).toMatch(/never sends .*WARTA_APPLE_APP_IDS/);
  });
});
