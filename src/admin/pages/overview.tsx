/** The console's start page: the organisation at a glance and where each task is done. */
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { showOrganisation } from '../../orgs/policy-admin.js';
import { at } from '../messages.js';
import { adminGate, adminPage } from './parts.js';

/** GET /admin */
export async function overviewPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const organisation = await showOrganisation(deps.db, c.get('user')!.organisation_id);
  const counts = organisation.people.by_status;
  return adminPage(c, { section: '/admin', title: (t) => at(t, 'admin.title') }, ({ t }) => (
    <>
      <p>{at(t, 'admin.overview.text', { organisation: organisation.name })}</p>
      <ul id="overview">
        <li>
          <a href="/admin/people">{at(t, 'admin.nav.people')}</a>: {at(t, 'admin.org.people_counts', { total: String(organisation.people.total), active: String(counts.active), disabled: String(counts.disabled), offboarded: String(counts.offboarded) })}
        </li>
        <li>
          <a href="/admin/invitations">{at(t, 'admin.nav.invitations')}</a>: {at(t, 'admin.overview.invitations')}
        </li>
        <li>
          <a href="/admin/organisation">{at(t, 'admin.nav.organisation')}</a>: {at(t, 'admin.overview.organisation')}
        </li>
        <li>
          <a href="/admin/clients">{at(t, 'admin.nav.clients')}</a>: {at(t, 'admin.overview.clients')}
        </li>
        <li>
          <a href="/admin/receivers">{at(t, 'admin.nav.receivers')}</a>: {at(t, 'admin.overview.receivers')}
        </li>
        <li>
          <a href="/admin/recovery">{at(t, 'admin.nav.recovery')}</a>: {at(t, 'admin.overview.recovery')}
        </li>
      </ul>
      <p class="hint">{at(t, 'admin.overview.api')}</p>
    </>
  ));
}
