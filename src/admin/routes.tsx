import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import type { AppEnv } from '../http/context.js';
import { auditPage } from './pages/audit.js';
import { clientPage, clientsPage } from './pages/clients.js';
import { invitationsPage } from './pages/invitations.js';
import { keysPage } from './pages/keys.js';
import { organisationPage } from './pages/organisation.js';
import { overviewPage } from './pages/overview.js';
import { personPage, peoplePage } from './pages/people.js';
import { receiversPage } from './pages/receivers.js';
import { recoveryPage } from './pages/recovery.js';

/**
 * The administration console's pages. They only read; every change they offer
 * is a call to the admin API from the page script, so the console can do
 * nothing the API does not allow, and the API is tested for everything the
 * console does.
 */
export function adminPages(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/admin', (c) => overviewPage(deps, c));
  app.get('/admin/people', (c) => peoplePage(deps, c));
  app.get('/admin/people/:id', (c) => personPage(deps, c, c.req.param('id')));
  app.get('/admin/invitations', (c) => invitationsPage(deps, c));
  app.get('/admin/organisation', (c) => organisationPage(deps, c));
  app.get('/admin/clients', (c) => clientsPage(deps, c));
  app.get('/admin/clients/:id', (c) => clientPage(deps, c, c.req.param('id')));
  app.get('/admin/receivers', (c) => receiversPage(deps, c));
  app.get('/admin/recovery', (c) => recoveryPage(deps, c));
  app.get('/admin/audit', (c) => auditPage(deps, c));
  app.get('/admin/keys', (c) => keysPage(deps, c));
  return app;
}
