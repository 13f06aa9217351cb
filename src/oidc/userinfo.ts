/** The UserInfo endpoint (OIDC Core §5.3): GET and POST, claims released by the token's scopes. */
import { Hono } from 'hono';
import type { AppContext, AppEnv } from '../http/context.js';
import { authenticateBearer, invalidToken } from './bearer.js';
import { userClaims } from './claims.js';
import { ENDPOINTS } from './endpoints.js';
import type { Deps } from '../runtime.js';
import type { Tokens } from './tokens.js';

export function userinfoRoutes(deps: Deps, tokens: Tokens) {
  const app = new Hono<AppEnv>();
  const userinfo = async (c: AppContext) => {
    const token = await authenticateBearer(c, deps, tokens, ENDPOINTS.userinfo, 'openid');
    const claims = await userClaims(deps.db, token.sub, (token.scope ?? '').split(' '));
    if (!claims) throw invalidToken(token.cnf?.jkt ? 'DPoP' : 'Bearer', 'the user account is not active');
    return c.json(claims);
  };
  app.get(ENDPOINTS.userinfo, userinfo);
  app.post(ENDPOINTS.userinfo, userinfo);
  return app;
}
