import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../http/context.js';
import { countAnonymousRequest } from './requests.js';

/**
 * Per-address request limit for an anonymous endpoint that stores a row, before
 * its body is read. `endpoint` names the budget: endpoints sharing a name share it.
 *
 * @example app.post('/api/webauthn/enrollment/options', anonymousRequestLimit(deps, 'webauthn-options'), handler)
 */
export function anonymousRequestLimit(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config'>, endpoint: string): MiddlewareHandler<AppEnv> {
  return async function anonymousRequestLimit(c, next) {
    await countAnonymousRequest(deps, { endpoint, ip: c.get('clientIp'), perMinute: deps.config.throttle.anonymousRequestsPerMinute });
    await next();
  };
}
