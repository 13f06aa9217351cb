import { Hono } from 'hono';
import type { AppEnv } from '../http/context.js';
import { approveAndPrintSlip, casePage } from './pages/case.js';
import { consolePage, openCasePage } from './pages/console.js';
import { recoverPage } from './pages/redeem.js';

/** The officer console (/recovery), the case pages, the slip, and the user's /recover page. */
export function recoveryPages() {
  const app = new Hono<AppEnv>();
  app.get('/recovery', consolePage);
  app.get('/recovery/open', openCasePage);
  app.get('/recovery/cases/:id', (c) => casePage(c, c.req.param('id')));
  app.post('/recovery/cases/:id/approve', approveAndPrintSlip);
  app.get('/recover', recoverPage);
  return app;
}
