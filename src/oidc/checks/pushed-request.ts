/**
 * RFC 9126 §6 `require_pushed_authorization_requests`: a client that registered it (or
 * that is held to fapi2, FAPI 2.0 SP §5.3.1.2: "shall only accept its parameters from a
 * pushed authorization request") is served at /authorize only with a request_uri it
 * pushed. Parameters sent through the browser could have been changed on the way.
 */
import { effectiveSecurityProfile } from '../../clients/security-profile.js';
import type { OAuthClient } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { invalidRequest } from '../../errors.js';

export async function requirePushedRequest(deps: Pick<Deps, 'db' | 'config'>, client: OAuthClient, pushed: boolean): Promise<void> {
  if (pushed) return;
  if (client.require_pushed_authorization_requests) throw invalidRequest('this client accepts only pushed authorization requests (RFC 9126): send a request_uri from the pushed authorization request endpoint');
  if ((await effectiveSecurityProfile(deps, client)) === 'fapi2')
    throw invalidRequest('this client is held to the fapi2 security profile, which accepts only pushed authorization requests (RFC 9126): send a request_uri from the pushed authorization request endpoint');
}
