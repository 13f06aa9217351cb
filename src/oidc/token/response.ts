import { appendAudit } from '../../audit/audit.js';
import type { SecurityProfile } from '../../clients/security-profile.js';
import type { OAuthClient } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { FormParams } from '../../http/form.js';
import type { Tokens } from '../tokens.js';
import { revokeGrant } from '../../grants/service.js';

/** What every grant handler gets: the authenticated client, the form, and the request's DPoP key. */
export interface GrantRequest {
  deps: Deps;
  tokens: Tokens;
  client: OAuthClient;
  /** The security profile the client is held to (its own, its organisation's default, the instance floor). */
  profile: SecurityProfile;
  form: FormParams;
  /** Thumbprint of the verified DPoP proof's key, when the request carried one. */
  jkt: string | undefined;
  /** `x5t#S256` of the client certificate, when the client's access tokens are certificate-bound (RFC 8705 §3). */
  x5t: string | undefined;
  ip: string | null;
}

/** RFC 6749 §5.1 successful response body. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * A code or refresh token presented after it was used: someone holds a copy. RFC 9700
 * §2.2.2 / §4.14.2 and OAuth 2.1 §4.1.3: revoke everything issued from it (the grant),
 * and audit, in one transaction.
 */
export async function revokeAfterReuse(deps: Deps, input: { grantId: string; clientId: string; token: 'authorization_code' | 'refresh_token'; ip: string | null }): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const revoked = await revokeGrant(trx, deps.clock, input.grantId, `${input.token}_reuse`);
    await appendAudit(trx, deps, { actor: `client:${input.clientId}`, ip: input.ip }, {
      action: input.token === 'authorization_code' ? 'oidc.code_reused' : 'oidc.refresh_token_reused',
      subject: `grant:${input.grantId}`,
      outcome: 'failure',
      details: { client_id: input.clientId, grant_revoked: revoked },
    });
  });
}
