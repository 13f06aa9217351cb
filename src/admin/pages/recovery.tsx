/** Recovery cases of the organisation: the report an admin reads, its export, and the co-approval a case about an admin or officer needs. */
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { listRecoveryCases, readCaseFilters, recoveryReport } from '../../recovery/report.js';
import { formatTime } from '../../ui/forms.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, doneOf, Field, Period } from './parts.js';

const DONE = { co_approved: 'admin.recovery.co_approved_done' } as const;

/** GET /admin/recovery */
export async function recoveryPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const organisationId = c.get('user')!.organisation_id;
  const raw = { status: c.req.query('status') || undefined, from: c.req.query('from') || undefined, to: c.req.query('to') || undefined };
  const cases = await listRecoveryCases(deps.db, organisationId, await readCaseFilters(deps.db, organisationId, raw));
  const report = await recoveryReport(deps.db, organisationId, { from: raw.from, to: raw.to });
  const exportQuery = new URLSearchParams(Object.entries(raw).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
  return adminPage(c, { section: '/admin/recovery', title: (t) => at(t, 'admin.recovery.title'), done: doneOf(c, DONE) }, ({ t, locale }) => (
    <>
      <form method="get" action="/admin/recovery" class="search">
        <Field id="recovery-status" label={at(t, 'admin.col.status')} hint={at(t, 'admin.recovery.status_hint')}>
          <input id="recovery-status" name="status" type="text" maxlength={200} value={raw.status ?? ''} aria-describedby="recovery-status-hint" />
        </Field>
        <Period id="recovery" labels={[at(t, 'admin.recovery.from'), at(t, 'admin.recovery.to')]} from={raw.from} to={raw.to} />
        <button type="submit">{at(t, 'admin.people.search_button')}</button>
      </form>
      {cases.length ? (
        <table id="recovery-cases">
          <ColumnHeads labels={[at(t, 'admin.col.name'), at(t, 'admin.col.status'), at(t, 'admin.recovery.opened'), at(t, 'admin.recovery.approved'), at(t, 'admin.col.actions')]} />
          <tbody>
            {cases.map((found) => (
              <tr data-case-id={found.id}>
                <td>
                  <a href={`/admin/people/${found.user.id}`}>{found.user.display_name || found.user.username}</a>
                </td>
                <td>{found.status}</td>
                <td>{`${formatTime(found.opened.at, locale)} · ${found.opened.by?.display_name ?? ''} · ${found.opened.desk ?? ''}`}</td>
                <td>{found.approved ? `${formatTime(found.approved.at, locale)} · ${found.approved.by?.display_name ?? ''}` : ''}</td>
                <td>
                  {found.status === 'pending' ? (
                    <ApiForm id={`co-approve-${found.id}`} api={`/api/admin/recovery-cases/${found.id}/co-approve`} next="/admin/recovery?done=co_approved">
                      <button type="submit" class="secondary">
                        {at(t, 'admin.recovery.co_approve', { name: found.user.display_name || found.user.username })}
                      </button>
                    </ApiForm>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.recovery.none')}</p>
      )}
      <p class="hint">{at(t, 'admin.recovery.co_approve_hint')}</p>
      <h2>{at(t, 'admin.recovery.report')}</h2>
      <p>{at(t, 'admin.recovery.report_total', { total: String(report.total) })}</p>
      <ul id="recovery-report-status">
        {Object.entries(report.by_status).map(([status, count]) => (
          <li>{`${status}: ${count}`}</li>
        ))}
      </ul>
      {report.by_desk.length ? (
        <table id="recovery-report-desks">
          <ColumnHeads labels={[at(t, 'admin.recovery.desk'), at(t, 'admin.recovery.cases')]} />
          <tbody>
            {report.by_desk.map((desk) => (
              <tr>
                <td>{desk.desk}</td>
                <td>{String(desk.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {report.by_officer.length ? (
        <table id="recovery-report-officers">
          <ColumnHeads labels={[at(t, 'admin.col.name'), at(t, 'admin.recovery.opened'), at(t, 'admin.recovery.approved'), at(t, 'admin.recovery.co_approved'), at(t, 'admin.recovery.closed')]} />
          <tbody>
            {report.by_officer.map((officer) => (
              <tr>
                <td>{officer.display_name || officer.username}</td>
                <td>{String(officer.opened)}</td>
                <td>{String(officer.approved)}</td>
                <td>{String(officer.co_approved)}</td>
                <td>{String(officer.closed)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ApiForm id="recovery-export-form" api={`/api/admin/recovery-cases/export${exportQuery ? `?${exportQuery}` : ''}`} method="GET" show="download" filename="warta-recovery-cases.json">
        <button type="submit" class="secondary">
          {at(t, 'admin.recovery.export')}
        </button>
      </ApiForm>
    </>
  ));
}
