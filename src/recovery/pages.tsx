import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../http/context.js';
import { approveAndPrintSlip, casePage } from './pages/case.js';
import { consolePage, openCasePage } from './pages/console.js';
import { recoverPage } from './pages/redeem.js';

/** The officer console (/recovery), the case pages, the slip, and the user's /recover page. */
export function recoveryPages(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/recovery', (c) => consolePage(deps, c));
  app.get('/recovery/open', (c) => openCasePage(deps, c));
  app.get('/recovery/cases/:id', (c) => casePage(deps, c, c.req.param('id')));
  app.post('/recovery/cases/:id/approve', (c) => approveAndPrintSlip(deps, c));
  app.get('/recover', recoverPage);
  return app;
}
