import { describe, expect, it } from 'vitest';
import { startOidcServer } from '../oidc/support.js';

const RELEASE = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
const UPLOAD = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':');

const configured = await startOidcServer({
  WARTA_ANDROID_APPS: `gov.example.messenger=${RELEASE}|${UPLOAD},gov.example.desk=${RELEASE}`,
  WARTA_APPLE_APP_IDS: 'ABCDE12345.gov.example.messenger',
});
const unset = await startOidcServer();

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });

describe('/.well-known/assetlinks.json (Digital Asset Links)', () => {
  it('lists each Android app with its certificate fingerprints and both relations, as application/json, cacheable, without a redirect', async () => {
    const response = await get(configured.url('/.well-known/assetlinks.json'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    const relation = ['delegate_permission/common.get_login_creds', 'delegate_permission/common.handle_all_urls'];
    expect(JSON.parse(await response.text())).toEqual([
      { relation, target: { namespace: 'android_app', package_name: 'gov.example.messenger', sha256_cert_fingerprints: [RELEASE, UPLOAD] } },
      { relation, target: { namespace: 'android_app', package_name: 'gov.example.desk', sha256_cert_fingerprints: [RELEASE] } },
    ]);
  });

  it('answers a matching If-None-Match with 304 and the same strong ETag', async () => {
    const first = await get(configured.url('/.well-known/assetlinks.json'));
    const etag = first.headers.get('etag')!;
    const again = await get(configured.url('/.well-known/assetlinks.json'), { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await get(configured.url('/.well-known/assetlinks.json'), { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('does not exist when WARTA_ANDROID_APPS is unset', async () => {
    expect((await get(unset.url('/.well-known/assetlinks.json'))).status).toBe(404);
  });
});

describe('/.well-known/apple-app-site-association', () => {
  it('lists the Apple app ids under webcredentials, as application/json, cacheable, without a redirect', async () => {
    const response = await get(configured.url('/.well-known/apple-app-site-association'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(JSON.parse(await response.text())).toEqual({ webcredentials: { apps: ['ABCDE12345.gov.example.messenger'] } });
  });

  it('does not exist when WARTA_APPLE_APP_IDS is unset', async () => {
    expect((await get(unset.url('/.well-known/apple-app-site-association'))).status).toBe(404);
  });
});
