import { describe, expect, it } from 'vitest';
import { WartaError } from '../src/errors.js';
import { capturingLogger } from './support/capturing-logger.js';


describe('log redaction', () => {
  it('keeps error codes, so operators can see a burst of invalid_credentials', () => {
    const { log, lines } = capturingLogger();
    const error = new WartaError(401, 'invalid_credentials', 'the username, password or code is not right');
    log.info({ requestId: 'r1', code: error.code, detail: undefined }, 'request refused');
    log.error({ requestId: 'r2', err: error, code: error.code }, 'request failed');
    expect(lines[0]).toMatchObject({ code: 'invalid_credentials' });
    expect(lines[1]).toMatchObject({ code: 'invalid_credentials', err: { code: 'invalid_credentials' } });
  });

  it('redacts an OAuth authorization code or a TOTP code carried by a request, and secrets', () => {
    const { log, lines } = capturingLogger();
    log.info({ query: { code: 'SplxlOBeZQQYbYS6WxSbIA', state: 'xyz' }, form: { grant_type: 'authorization_code', code: 'SplxlOBeZQQYbYS6WxSbIA' }, request: { body: { code: '123456' } } }, 'incoming');
    log.info({ token: 't', password: 'p', client: { client_secret: 's', refresh_token: 'r' }, headers: { authorization: 'Bearer x', cookie: 'warta_session=y' } }, 'secrets');
    const text = JSON.stringify(lines);
    for (const secret of ['SplxlOBeZQQYbYS6WxSbIA', '123456', '"t"', '"p"', '"s"', '"r"', 'Bearer x', 'warta_session=y']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ query: { code: '[redacted]', state: 'xyz' }, form: { grant_type: 'authorization_code', code: '[redacted]' }, request: { body: { code: '[redacted]' } } });
  });
});
