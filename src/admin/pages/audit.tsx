/** The audit log of the organisation: searched by person, actor, action and time, a page at a time, and exported as JSON lines. */
import { readAuditFilters, searchAudit } from '../../audit/search.js';
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import { formatTime } from '../../ui/forms.js';
import { ColumnHeads } from '../../ui/table.js';
import { at } from '../messages.js';
import { adminGate, adminPage, ApiForm, NextPage, Field, Period } from './parts.js';

const FILTERS = ['person', 'actor', 'action', 'from', 'to'] as const;

/** The names of the people a page's entries name (`user:<id>`), in one query: ids alone tell an admin nothing. */
async function peopleNames(deps: Deps, references: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(references.filter((reference) => /^user:[0-9a-f-]{36}$/.test(reference)).map((reference) => reference.slice(5)))];
  if (!ids.length) return new Map();
  const rows = await deps.db.selectFrom('users').select(['id', 'display_name', 'username']).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [`user:${row.id}`, row.display_name || row.username]));
}

/** GET /admin/audit */
export async function auditPage(deps: Deps, c: AppContext) {
  const gate = await adminGate(deps, c);
  if (gate) return gate;
  const scope = { organisationId: c.get('user')!.organisation_id };
  const raw = Object.fromEntries(FILTERS.map((name) => [name, c.req.query(name) || undefined])) as Record<(typeof FILTERS)[number], string | undefined>;
  const page = await searchAudit(deps.db, scope, await readAuditFilters(deps.db, scope, raw), { cursor: c.req.query('cursor') || undefined });
  const names = await peopleNames(deps, page.entries.flatMap((entry) => [entry.actor, entry.subject ?? '']));
  const named = (reference: string) => names.get(reference) ?? reference;
  const given = Object.entries(raw).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const exportQuery = new URLSearchParams(given).toString();
  return adminPage(c, { section: '/admin/audit', title: (t) => at(t, 'admin.audit.title') }, ({ t, locale }) => (
    <>
      <p>{at(t, 'admin.audit.text')}</p>
      <form method="get" action="/admin/audit" class="search" role="search">
        <Field id="audit-person" label={at(t, 'admin.audit.person')}>
          <input id="audit-person" name="person" type="text" maxlength={64} value={raw.person ?? ''} />
        </Field>
        <Field id="audit-actor" label={at(t, 'admin.audit.actor')}>
          <input id="audit-actor" name="actor" type="text" maxlength={200} value={raw.actor ?? ''} />
        </Field>
        <Field id="audit-action" label={at(t, 'admin.audit.action')} hint={at(t, 'admin.audit.action_hint')}>
          <input id="audit-action" name="action" type="text" maxlength={100} value={raw.action ?? ''} aria-describedby="audit-action-hint" />
        </Field>
        <Period id="audit" labels={[at(t, 'admin.audit.from'), at(t, 'admin.audit.to')]} from={raw.from} to={raw.to} />
        <button type="submit">{at(t, 'admin.people.search_button')}</button>
      </form>
      {page.entries.length ? (
        <table id="audit-entries">
          <ColumnHeads labels={[at(t, 'admin.audit.when'), at(t, 'admin.audit.actor'), at(t, 'admin.audit.action'), at(t, 'admin.audit.subject'), at(t, 'admin.audit.outcome'), 'IP']} />
          <tbody>
            {page.entries.map((entry) => (
              <tr data-entry-id={String(entry.id)}>
                <td>{formatTime(entry.at, locale)}</td>
                <td title={entry.actor}>{named(entry.actor)}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td title={entry.subject ?? undefined}>{entry.subject ? named(entry.subject) : ''}</td>
                <td>{entry.outcome === 'success' ? at(t, 'admin.audit.success') : at(t, 'admin.audit.failure')}</td>
                <td>{entry.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{at(t, 'admin.audit.none')}</p>
      )}
      <NextPage t={t} path="/admin/audit" filters={given} cursor={page.next_cursor} />
      <ApiForm id="audit-export-form" api={`/api/admin/audit/export${exportQuery ? `?${exportQuery}` : ''}`} method="GET" show="download" filename="warta-audit.ndjson">
        <p>{at(t, 'admin.audit.export_text')}</p>
        <button type="submit" class="secondary">
          {at(t, 'admin.audit.export')}
        </button>
      </ApiForm>
    </>
  ));
}
