import { describe, expect, it } from 'vitest';

import { matchRedirectUri } from '../../../src/oidc/checks/redirect-uri.js';
import { type RedirectUriRegistrationOptions, validateRedirectUriForRegistration } from '../../../src/clients/redirect-uri.js';
import { errorFrom } from '../expect-error.js';

describe('matchRedirectUri: exact string matching (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3)', () => {
  const registered = ['https://app.example.com/cb', 'com.example.app:/oauth2redirect'];

  it('matches a registered URI exactly and returns it', () => {
    expect(matchRedirectUri('https://app.example.com/cb', registered)).toBe('https://app.example.com/cb');
    expect(matchRedirectUri('com.example.app:/oauth2redirect', registered)).toBe('com.example.app:/oauth2redirect');
  });

  it.each([
    ['another path', 'https://app.example.com/cb2'],
    ['a sub-path (prefix matching)', 'https://app.example.com/cb/evil'],
    ['a trailing slash', 'https://app.example.com/cb/'],
    ['an added query', 'https://app.example.com/cb?next=https://evil.example'],
    ['a fragment', 'https://app.example.com/cb#x'],
    ['an upper-case host (no normalisation)', 'https://APP.example.com/cb'],
    ['an explicit default port (no normalisation)', 'https://app.example.com:443/cb'],
    ['another host', 'https://evil.example/cb'],
    ['a host suffix', 'https://app.example.com.evil.example/cb'],
    ['userinfo', 'https://app.example.com@evil.example/cb'],
    ['http instead of https', 'http://app.example.com/cb'],
    ['a percent-encoded path', 'https://app.example.com/%63b'],
  ])('does not match %s', (_, requested) => {
    expect(matchRedirectUri(requested, registered)).toBeNull();
  });

  it('matches nothing against an empty registration', () => {
    expect(matchRedirectUri('https://app.example.com/cb', [])).toBeNull();
  });
});

describe('matchRedirectUri: loopback port exemption (RFC 8252 §7.3)', () => {
  it.each([
    ['http://127.0.0.1/cb', 'http://127.0.0.1:51004/cb'],
    ['http://127.0.0.1:8080/cb', 'http://127.0.0.1:51004/cb'],
    ['http://127.0.0.1:8080/cb', 'http://127.0.0.1/cb'],
    ['http://[::1]/cb', 'http://[::1]:61023/cb'],
    ['http://127.0.0.1/cb?app=desktop', 'http://127.0.0.1:1/cb?app=desktop'],
    ['http://127.0.0.1', 'http://127.0.0.1:65535'],
  ])('lets a request for %s use any port: %s', (registeredUri, requested) => {
    // The requested URI (with the client's port) is where the response must go.
    expect(matchRedirectUri(requested, [registeredUri])).toBe(requested);
  });

  it.each([
    ['another path', 'http://127.0.0.1/cb', 'http://127.0.0.1:5000/other'],
    ['a trailing slash', 'http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb/'],
    ['another query', 'http://127.0.0.1/cb?a=1', 'http://127.0.0.1:5000/cb?a=2'],
    ['an added query', 'http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb?a=1'],
    ['a fragment', 'http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb#frag'],
    ['the other IP version', 'http://127.0.0.1/cb', 'http://[::1]:5000/cb'],
    ['https', 'http://127.0.0.1/cb', 'https://127.0.0.1:5000/cb'],
    ['another loopback address', 'http://127.0.0.1/cb', 'http://127.0.0.2:5000/cb'],
    ['a non-canonical port', 'http://127.0.0.1/cb', 'http://127.0.0.1:05000/cb'],
    ['port 0', 'http://127.0.0.1/cb', 'http://127.0.0.1:0/cb'],
    ['a port above 65535', 'http://127.0.0.1/cb', 'http://127.0.0.1:65536/cb'],
    ['an empty port', 'http://127.0.0.1/cb', 'http://127.0.0.1:/cb'],
    ['userinfo after the port', 'http://127.0.0.1/cb', 'http://127.0.0.1:80@evil.example/cb'],
    ['a host that only starts like a loopback address', 'http://127.0.0.1/cb', 'http://127.0.0.1.evil.example:80/cb'],
  ])('does not extend the exemption to %s', (_, registeredUri, requested) => {
    expect(matchRedirectUri(requested, [registeredUri])).toBeNull();
  });

  it('gives localhost no port exemption (RFC 8252 §8.3), only an exact match', () => {
    expect(matchRedirectUri('http://localhost:5000/cb', ['http://localhost/cb'])).toBeNull();
    expect(matchRedirectUri('http://localhost:5000/cb', ['http://localhost:3000/cb'])).toBeNull();
    expect(matchRedirectUri('http://localhost:3000/cb', ['http://localhost:3000/cb'])).toBe('http://localhost:3000/cb');
  });

  it('does not mistake a host that starts with 127.0.0.1 for the loopback address', () => {
    expect(matchRedirectUri('http://127.0.0.1:8080.example.com/cb', ['http://127.0.0.1.example.com/cb'])).toBeNull();
  });

  it('does not let a loopback registration match a non-loopback request', () => {
    expect(matchRedirectUri('http://evil.example:5000/cb', ['http://127.0.0.1/cb'])).toBeNull();
  });
});

describe('validateRedirectUriForRegistration', () => {
  const web: RedirectUriRegistrationOptions = { applicationType: 'web' };
  const webInDevelopment: RedirectUriRegistrationOptions = { applicationType: 'web', developmentMode: true };
  const native: RedirectUriRegistrationOptions = { applicationType: 'native' };

  const rejection = (uri: string, options: RedirectUriRegistrationOptions) => {
    const error = errorFrom(() => validateRedirectUriForRegistration(uri, options));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_redirect_uri');
    return error.description;
  };

  describe('for every client', () => {
    it.each([web, native])('refuses a fragment, even an empty one (RFC 6749 §3.1.2) %#', (options) => {
      expect(rejection('https://app.example.com/cb#frag', options)).toMatch(/fragment/);
      expect(rejection('https://app.example.com/cb#', options)).toMatch(/fragment/);
    });

    it.each([
      'javascript:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'blob:https://app.example.com/uuid',
    ])('refuses the scheme of %s', (uri) => {
      expect(rejection(uri, native)).toMatch(/scheme .* is not allowed/);
      expect(rejection(uri, web)).toMatch(/scheme .* is not allowed/);
    });

    it('refuses a wildcard host', () => {
      expect(rejection('https://*.example.com/cb', web)).toMatch(/wildcard/);
      expect(rejection('https://*/cb', native)).toMatch(/wildcard/);
    });

    it('refuses user information, which disguises the real host', () => {
      expect(rejection('https://app.example.com@evil.example/cb', web)).toMatch(/user information/);
      expect(rejection('https://user:pass@app.example.com/cb', native)).toMatch(/user information/);
    });

    it.each(['/cb', 'app.example.com/cb', ''])('refuses the relative or empty URI %o', (uri) => {
      rejection(uri, web);
    });

    it.each([
      ['a space', 'https://app.example.com/c b'],
      ['a newline the URL parser would silently drop', 'https://app.example.com/c\nb'],
      ['a tab', 'https://app.example.com/\tcb'],
      ['a non-ASCII character', 'https://app.example.com/café'],
    ])('refuses %s', (_, uri) => {
      expect(rejection(uri, web)).toMatch(/ASCII/);
    });

    it('refuses a URI longer than an authorization request parameter may be', () => {
      const uri = `https://app.example.com/${'a'.repeat(2048)}`;
      expect(rejection(uri, web)).toMatch(/at most 2048/);
      expect(() => validateRedirectUriForRegistration(uri.slice(0, 2048), web)).not.toThrow();
    });

    it('refuses an unknown application type', () => {
      rejection('https://app.example.com/cb', { applicationType: 'service' as 'web' });
    });
  });

  describe('web clients', () => {
    it.each(['https://app.example.com/cb', 'https://app.example.com:8443/cb?tenant=a', 'https://127.0.0.1/cb'])(
      'accept the https URI %s',
      (uri) => {
        expect(() => validateRedirectUriForRegistration(uri, web)).not.toThrow();
      },
    );

    it.each(['http://app.example.com/cb', 'http://127.0.0.1/cb', 'http://localhost:3000/cb'])(
      'refuse plain http outside development mode: %s',
      (uri) => {
        expect(rejection(uri, web)).toMatch(/must use https/);
      },
    );

    it.each(['http://127.0.0.1:3000/cb', 'http://[::1]:3000/cb', 'http://localhost:3000/cb'])(
      'accept http on the developer machine in development mode: %s',
      (uri) => {
        expect(() => validateRedirectUriForRegistration(uri, webInDevelopment)).not.toThrow();
      },
    );

    it('refuse http to a real host even in development mode', () => {
      expect(rejection('http://app.example.com/cb', webInDevelopment)).toMatch(/must use https/);
    });

    it('refuse private-use schemes, which are for native apps', () => {
      expect(rejection('com.example.app:/cb', web)).toMatch(/must use https/);
    });
  });

  describe('native clients (RFC 8252 §7)', () => {
    it.each([
      'com.example.app:/oauth2redirect/example-provider',
      'com.example.app://callback',
      'io.github.user-name.app:/cb',
      'https://app.example.com/oauth2redirect',
      'http://127.0.0.1/cb',
      'http://127.0.0.1:8080/cb',
      'http://[::1]/cb',
    ])('accept %s', (uri) => {
      expect(() => validateRedirectUriForRegistration(uri, native)).not.toThrow();
    });

    it.each(['myapp:/cb', 'myapp://callback', 'com.:/cb', 'com..example:/cb', 'com.-example:/cb', 'com.example-:/cb', 'com.exa+mple:/cb'])(
      'refuse the private-use scheme of %s, which is not a reverse domain name (RFC 8252 §7.1)',
      (uri) => {
        expect(rejection(uri, native)).toMatch(/reverse domain name/);
      },
    );

    it('refuse http://localhost and point to the loopback IP literal (RFC 8252 §8.3)', () => {
      expect(rejection('http://localhost:8080/cb', native)).toMatch(/not localhost/);
    });

    it.each(['http://app.example.com/cb', 'http://127.0.0.2/cb', 'http://10.0.0.1/cb'])(
      'refuse plain http to anything but the loopback IP literal: %s',
      (uri) => {
        expect(rejection(uri, native)).toMatch(/loopback IP literal/);
      },
    );
  });
});
