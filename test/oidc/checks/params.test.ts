import { describe, expect, it } from 'vitest';

import { MAX_PARAMS_TOTAL_BYTES, MAX_PARAM_VALUE_LENGTH, parseAuthorizationParams } from '../../../src/oidc/checks/params.js';
import { errorFrom } from '../expect-error.js';

const minimal = { response_type: 'code', client_id: 's6BhdRkqt3' };

const query = (params: Record<string, string> | Array<[string, string]>) => new URLSearchParams(params);

const rejection = (source: URLSearchParams | FormData) => errorFrom(() => parseAuthorizationParams(source));

describe('parseAuthorizationParams', () => {
  it('returns every known parameter, typed', () => {
    const params = parseAuthorizationParams(
      query({
        response_type: 'code',
        client_id: 's6BhdRkqt3',
        redirect_uri: 'https://client.example.org/cb',
        scope: 'openid profile',
        state: 'af0ifjsldkj',
        nonce: 'n-0S6_WzA2Mj',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        prompt: 'login consent',
        max_age: '3600',
        login_hint: 'janina@example.pl',
        ui_locales: 'pl en',
        acr_values: 'urn:warta:acr:passkey',
        dpop_jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
        response_mode: 'query',
      }),
    );
    expect(params).toEqual({
      response_type: 'code',
      client_id: 's6BhdRkqt3',
      redirect_uri: 'https://client.example.org/cb',
      scope: 'openid profile',
      state: 'af0ifjsldkj',
      nonce: 'n-0S6_WzA2Mj',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      prompt: ['login', 'consent'],
      max_age: 3600,
      login_hint: 'janina@example.pl',
      ui_locales: 'pl en',
      acr_values: 'urn:warta:acr:passkey',
      request_uri: undefined,
      dpop_jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
      response_mode: 'query',
    });
  });

  it('reads a POSTed form the same way as a query string', () => {
    const form = new FormData();
    form.append('response_type', 'code');
    form.append('client_id', 's6BhdRkqt3');
    form.append('state', 'xyz');
    expect(parseAuthorizationParams(form)).toMatchObject({ response_type: 'code', client_id: 's6BhdRkqt3', state: 'xyz' });
  });

  it('refuses a file in a POSTed form', () => {
    const form = new FormData();
    form.append('response_type', 'code');
    form.append('client_id', 's6BhdRkqt3');
    form.append('state', new Blob(['x']), 'state.txt');
    expect(rejection(form).code).toBe('invalid_request');
  });

  it('ignores unrecognized parameters (RFC 6749 §3.1)', () => {
    const params = parseAuthorizationParams(query({ ...minimal, display: 'popup', utm_source: 'mail' }));
    expect(params).not.toHaveProperty('display');
    expect(params).not.toHaveProperty('utm_source');
  });

  it('treats a parameter sent without a value as omitted (RFC 6749 §3.1)', () => {
    expect(parseAuthorizationParams(query({ ...minimal, state: '', prompt: '', max_age: '' }))).toMatchObject({
      state: undefined,
      prompt: undefined,
      max_age: undefined,
    });
  });

  describe('parameters must not be included more than once (RFC 6749 §3.1)', () => {
    it.each(['client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'prompt', 'response_type', 'request_uri'])(
      'refuses a repeated %s',
      (name) => {
        const error = rejection(query([...Object.entries(minimal), [name, 'one'], [name, 'two']]));
        expect(error.status).toBe(400);
        expect(error.code).toBe('invalid_request');
        expect(error.description).toBe(`parameter ${name} must not be included more than once`);
      },
    );

    it('refuses a repetition even when one of the copies is empty', () => {
      expect(rejection(query([...Object.entries(minimal), ['redirect_uri', ''], ['redirect_uri', 'https://evil.example/cb']])).code).toBe(
        'invalid_request',
      );
    });

    it('refuses the same value twice too', () => {
      expect(rejection(query([...Object.entries(minimal), ['state', 'a'], ['state', 'a']])).code).toBe('invalid_request');
    });

    it('leaves repeated unrecognized parameters alone, as it ignores them', () => {
      expect(() => parseAuthorizationParams(query([...Object.entries(minimal), ['utm', 'a'], ['utm', 'b']]))).not.toThrow();
    });
  });

  describe('size limits', () => {
    it(`accepts a value of exactly ${MAX_PARAM_VALUE_LENGTH} characters`, () => {
      expect(parseAuthorizationParams(query({ ...minimal, state: 's'.repeat(MAX_PARAM_VALUE_LENGTH) })).state).toHaveLength(2048);
    });

    it('refuses a value longer than 2048 characters, in a known parameter or not', () => {
      expect(rejection(query({ ...minimal, state: 's'.repeat(MAX_PARAM_VALUE_LENGTH + 1) })).code).toBe('invalid_request');
      expect(rejection(query({ ...minimal, unknown: 'u'.repeat(MAX_PARAM_VALUE_LENGTH + 1) })).code).toBe('invalid_request');
    });

    it('refuses more than 8 KiB of parameters in total', () => {
      const padding: Array<[string, string]> = [1, 2, 3, 4].map((i) => [`pad${i}`, 'p'.repeat(2040)]);
      const error = rejection(query([...Object.entries(minimal), ...padding]));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/total at most 8192 bytes/);
    });

    it('counts the total in UTF-8 bytes, not characters', () => {
      // 3 × 1500 characters = 4500 characters, but 'ż' is two bytes: 9000 bytes.
      const padding: Array<[string, string]> = [1, 2, 3].map((i) => [`pad${i}`, 'ż'.repeat(1500)]);
      expect(rejection(query([...Object.entries(minimal), ...padding])).code).toBe('invalid_request');
    });

    it('counts every parameter, so thousands of empty ones do not slip through', () => {
      const empties: Array<[string, string]> = Array.from({ length: MAX_PARAMS_TOTAL_BYTES }, () => ['', '']);
      expect(rejection(query([...Object.entries(minimal), ...empties])).code).toBe('invalid_request');
    });

    it('accepts a realistic large request under the limits', () => {
      const padding: Array<[string, string]> = [1, 2, 3].map((i) => [`pad${i}`, 'p'.repeat(2000)]);
      expect(() => parseAuthorizationParams(query([...Object.entries(minimal), ...padding]))).not.toThrow();
    });
  });

  describe('client_id and response_type', () => {
    it('requires client_id', () => {
      const error = rejection(query({ response_type: 'code' }));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/client_id/);
    });

    it('requires response_type', () => {
      const error = rejection(query({ client_id: 's6BhdRkqt3' }));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/response_type required/);
    });

    it.each(['token', 'id_token', 'code id_token', 'code token', 'CODE', 'code ', 'none'])(
      'refuses response_type %o as unsupported_response_type',
      (responseType) => {
        const error = rejection(query({ client_id: 's6BhdRkqt3', response_type: responseType }));
        expect(error.status).toBe(400);
        expect(error.code).toBe('unsupported_response_type');
      },
    );

    it('lets a pushed authorization request reference omit response_type (RFC 9126 §4)', () => {
      const params = parseAuthorizationParams(
        query({ client_id: 's6BhdRkqt3', request_uri: 'urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c' }),
      );
      expect(params.response_type).toBeUndefined();
      expect(params.request_uri).toBe('urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c');
    });

    it('still checks response_type when a request_uri carries one', () => {
      expect(rejection(query({ client_id: 's6BhdRkqt3', request_uri: 'urn:x', response_type: 'token' })).code).toBe(
        'unsupported_response_type',
      );
    });

    it('refuses request objects passed by value (OIDC Core §6)', () => {
      const error = rejection(query({ ...minimal, request: 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.' }));
      expect(error.code).toBe('request_not_supported');
    });
  });

  describe('prompt (OIDC Core §3.1.2.1)', () => {
    it.each([
      ['none', ['none']],
      ['login', ['login']],
      ['consent', ['consent']],
      ['select_account', ['select_account']],
      ['login consent select_account', ['login', 'consent', 'select_account']],
      ['login  consent', ['login', 'consent']],
      ['login login', ['login']],
    ])('reads prompt=%o', (prompt, expected) => {
      expect(parseAuthorizationParams(query({ ...minimal, prompt })).prompt).toEqual(expected);
    });

    it.each(['none login', 'consent none', 'none select_account login'])('refuses none combined with another value: %o', (prompt) => {
      const error = rejection(query({ ...minimal, prompt }));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/none must not be combined/);
    });

    it.each(['create', 'Login', 'login,consent', 'login+consent'])('refuses the unknown prompt value %o', (prompt) => {
      const error = rejection(query({ ...minimal, prompt }));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/space-separated list/);
    });
  });

  describe('max_age (OIDC Core §3.1.2.1)', () => {
    it.each([
      ['0', 0],
      ['3600', 3600],
      ['086400', 86400],
    ])('reads max_age=%o as %d seconds', (maxAge, seconds) => {
      expect(parseAuthorizationParams(query({ ...minimal, max_age: maxAge })).max_age).toBe(seconds);
    });

    it.each(['-1', '1.5', '1e3', '+5', ' 5', '5 ', 'abc', '0x10', '9999999999999999', 'Infinity'])(
      'refuses max_age=%o',
      (maxAge) => {
        const error = rejection(query({ ...minimal, max_age: maxAge }));
        expect(error.code).toBe('invalid_request');
        expect(error.description).toMatch(/max_age/);
      },
    );
  });

  describe('response_mode', () => {
    it('accepts query or nothing', () => {
      expect(parseAuthorizationParams(query({ ...minimal, response_mode: 'query' })).response_mode).toBe('query');
      expect(parseAuthorizationParams(query(minimal)).response_mode).toBeUndefined();
    });

    it.each(['fragment', 'form_post', 'query.jwt', 'jwt', 'QUERY'])('refuses response_mode=%o', (responseMode) => {
      const error = rejection(query({ ...minimal, response_mode: responseMode }));
      expect(error.code).toBe('invalid_request');
      expect(error.description).toMatch(/response_mode/);
    });
  });
});
