import { Hono } from 'hono';
import { type AppEnv, auditContext } from '../http/context.js';
import { readJsonObject } from '../http/json-body.js';
import { requireRecentAuthentication } from '../sessions/middleware.js';
import { reauthenticationRedirect } from '../sessions/reauth.js';
import { renderPage } from '../ui/render.js';
import { methodSettings } from '../users/sign-in-methods.js';
import { PASSWORD_TOTP_SCRIPT } from './form-parts.js';
import { readTotpCode } from './input.js';
import { tt } from './messages.js';
import { AccountTotpPage } from './pages.js';
import { confirmTotpSetup, removeTotp, startTotpSetup } from './service.js';
import type { Deps } from '../deps.js';

/** The signed-in user's authenticator app: set up, replace (set up again), remove. */
export function totpRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/account/totp', async (c) => {
    const gate = reauthenticationRedirect(c.get('session'), deps.clock, c.req.path);
    if (gate) return c.redirect(gate);
    const { current: totp, allowed } = await methodSettings(deps.db, c.get('user')!, 'totp');
    return renderPage(c, { title: (t) => tt(t, 'pwd.totp.title'), scripts: [PASSWORD_TOTP_SCRIPT] }, (page) => (
      <AccountTotpPage {...page} totp={totp} allowed={allowed} done={c.req.query('done') === '1'} />
    ));
  });

  app.post('/api/account/totp/setup', requireRecentAuthentication(deps), async (c) => c.json(await startTotpSetup(deps, auditContext(c), c.get('user')!)));

  app.post('/api/account/totp/confirm', requireRecentAuthentication(deps), async (c) => {
    const code = readTotpCode(await readJsonObject(c));
    const credential = await confirmTotpSetup(deps, auditContext(c), c.get('user')!, code);
    return c.json({ status: 'active', created_at: credential.created_at.toISOString() });
  });

  app.delete('/api/account/totp', requireRecentAuthentication(deps), async (c) => {
    const { remaining } = await removeTotp(deps, auditContext(c), { session: c.get('session')!, confirmLastMethod: c.req.query('confirm_last_method') === 'true' });
    return c.json({ status: 'removed', remaining_sign_in_methods: remaining });
  });

  return app;
}
