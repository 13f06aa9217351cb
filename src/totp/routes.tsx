import { Hono } from 'hono';
import { type AppEnv, auditContext } from '../http/context.js';
import { readJsonObject } from '../http/json-body.js';
import { pageGate, requireRecentAuthentication } from '../passwords/recent-auth.js';
import { methodRefusalFor } from '../orgs/method-policy.js';
import { renderPage } from '../ui/render.js';
import { listTotpAndPassword } from '../users/sign-in-methods.js';
import { PASSWORD_TOTP_SCRIPT } from './form-parts.js';
import { readTotpCode } from './input.js';
import { tt } from './messages.js';
import { AccountTotpPage } from './pages.js';
import { confirmTotpSetup, removeTotp, startTotpSetup } from './service.js';

/** The signed-in user's authenticator app: set up, replace (set up again), remove. */
export function totpRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/account/totp', async (c) => {
    const gate = pageGate(c);
    if (gate) return c.redirect(gate);
    const deps = c.get('deps');
    const user = c.get('user')!;
    const { totp } = await listTotpAndPassword(deps.db, user.id);
    const allowed = (await methodRefusalFor(deps.db, user, 'totp')) === undefined;
    return renderPage(c, { title: (t) => tt(t, 'pwd.totp.title'), scripts: [PASSWORD_TOTP_SCRIPT] }, (page) => (
      <AccountTotpPage {...page} totp={totp} allowed={allowed} done={c.req.query('done') === '1'} />
    ));
  });

  app.post('/api/account/totp/setup', requireRecentAuthentication(), async (c) => c.json(await startTotpSetup(c.get('deps'), auditContext(c), c.get('user')!)));

  app.post('/api/account/totp/confirm', requireRecentAuthentication(), async (c) => {
    const code = readTotpCode(await readJsonObject(c));
    const credential = await confirmTotpSetup(c.get('deps'), auditContext(c), c.get('user')!, code);
    return c.json({ status: 'active', created_at: credential.created_at.toISOString() });
  });

  app.delete('/api/account/totp', requireRecentAuthentication(), async (c) => {
    const { remaining } = await removeTotp(c.get('deps'), auditContext(c), { userId: c.get('user')!.id, confirmLastMethod: c.req.query('confirm_last_method') === 'true' });
    return c.json({ status: 'removed', remaining_sign_in_methods: remaining });
  });

  return app;
}
