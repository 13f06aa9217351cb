/** The officer console: finding the person, opening a case, and the lists of open and recently closed cases. */
import { OPEN_RECOVERY_STATUSES, type RecoveryCaseStatus } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { type AppContext, auditContext } from '../../http/context.js';
import { isWartaError, type WartaError } from '../../errors.js';
import type { Translate } from '../../ui/i18n.js';
import { type PageContext, renderPage } from '../../ui/render.js';
import { ColumnHeads } from '../../ui/table.js';
import { type CaseView, isUuid } from '../cases.js';
import { DOCUMENT_TYPES } from '../identity.js';
import { recoveryClientMessages, rt, type RecoveryMessage } from '../messages.js';
import { findPersonForOfficer, type PersonMatch, searchPeople } from '../people.js';
import { recoveryPolicyOf } from '../policy.js';
import { listRecoveryCases } from '../report.js';
import { BackToConsole, caseLink, CONSOLE_SCRIPTS, consoleGate, DeskField, documentName, formatTime, statusName } from './parts.js';

const CLOSED_STATUSES: RecoveryCaseStatus[] = ['completed', 'rejected', 'cancelled', 'expired', 'locked'];

function CaseTable({ t, locale, cases, columns }: PageContext & { cases: CaseView[]; columns: ('opened' | 'approved' | 'valid_until' | 'status' | 'closed')[] }) {
  if (!cases.length) return <p class="muted">{rt(t, 'rc.console.none')}</p>;
  const cell = (view: CaseView, column: (typeof columns)[number]) => {
    switch (column) {
      case 'opened':
        return rt(t, 'rc.by_at', { name: view.opened.by!.display_name ?? '', desk: view.opened.desk, time: formatTime(view.opened.at, locale) });
      case 'approved':
        return view.approved ? rt(t, 'rc.by_at', { name: view.approved.by?.display_name ?? '', desk: view.approved.desk ?? '', time: formatTime(view.approved.at, locale) }) : '';
      case 'valid_until':
        return view.code ? formatTime(view.code.expires_at, locale) : '';
      case 'status':
        return statusName(t, view.status);
      case 'closed':
        return view.closed ? formatTime(view.closed.at, locale) : '';
    }
  };
  return (
    <table>
      <ColumnHeads labels={[rt(t, 'rc.col.person'), ...columns.map((column) => rt(t, `rc.col.${column}` as RecoveryMessage)), rt(t, 'rc.col.action')]} />
      <tbody>
        {cases.map((view) => (
          <tr data-case-id={view.id}>
            <td>
              {view.user.display_name}
              <br />
              <span class="muted">{view.user.username}</span>
            </td>
            {columns.map((column) => (
              <td>{cell(view, column)}</td>
            ))}
            <td>
              <a href={caseLink(view.id)}>{rt(t, view.status === 'pending' ? 'rc.console.review' : 'rc.console.view')}</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PeopleTable({ t, people }: { t: Translate; people: PersonMatch[] }) {
  return (
    <table id="people">
      <ColumnHeads labels={[rt(t, 'rc.col.person'), rt(t, 'rc.col.username'), rt(t, 'rc.col.employee_id'), rt(t, 'rc.col.action')]} />
      <tbody>
        {people.map((person) => (
          <tr>
            <td>{person.display_name}</td>
            <td>{person.username}</td>
            <td>{person.employee_id ?? ''}</td>
            <td>{person.open_case_id ? <a href={caseLink(person.open_case_id)}>{rt(t, 'rc.console.case_open')}</a> : <a href={`/recovery/open?user=${person.id}`}>{rt(t, 'rc.console.open_case')}</a>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const filters = (statuses: RecoveryCaseStatus[], limit: number) => ({ statuses, from: undefined, to: undefined, officerId: undefined, userId: undefined, limit });

/** GET /recovery */
export async function consolePage(deps: Deps, c: AppContext) {
  const gate = await consoleGate(deps, c);
  if (gate) return gate;
  const officer = c.get('user')!;
  const query = (c.req.query('q') ?? '').trim();
  let people: PersonMatch[] | undefined;
  let searchError: WartaError | undefined;
  if (query) {
    try {
      people = await searchPeople(deps, auditContext(c), officer, query);
    } catch (error) {
      if (!isWartaError(error) || error.status >= 500) throw error;
      searchError = error;
    }
  }
  const open = await listRecoveryCases(deps.db, officer.organisation_id, filters([...OPEN_RECOVERY_STATUSES], 200));
  const closed = await listRecoveryCases(deps.db, officer.organisation_id, filters(CLOSED_STATUSES, 20));
  const done = c.req.query('done') === 'rejected' ? 'rc.case.rejected_done' : undefined;
  return renderPage(c, { title: (t) => rt(t, 'rc.console.title'), scripts: CONSOLE_SCRIPTS }, (page) => (
    <section id="recovery-console" data-messages={JSON.stringify(recoveryClientMessages(page.t))}>
      <h1>{rt(page.t, 'rc.console.title')}</h1>
      <p>{rt(page.t, 'rc.console.intro')}</p>
      {done ? (
        <p class="ok" role="status">
          {rt(page.t, done)}
        </p>
      ) : null}
      <h2>{rt(page.t, 'rc.console.search_title')}</h2>
      <form method="get" action="/recovery" role="search">
        <label for="q">{rt(page.t, 'rc.console.search_label')}</label>
        <input id="q" name="q" type="text" enterkeyhint="search" value={query} maxlength={100} autocomplete="off" />
        <button type="submit">{rt(page.t, 'rc.console.search_button')}</button>
      </form>
      {searchError ? <p class="error">{searchError.description}</p> : null}
      {people && people.length ? <PeopleTable t={page.t} people={people} /> : null}
      {people && !people.length ? <p>{rt(page.t, 'rc.console.no_results', { q: query })}</p> : null}
      <h2>{rt(page.t, 'rc.console.pending_title')}</h2>
      <CaseTable {...page} cases={open.filter((view) => view.status === 'pending')} columns={['opened']} />
      <h2>{rt(page.t, 'rc.console.approved_title')}</h2>
      <CaseTable {...page} cases={open.filter((view) => view.status !== 'pending')} columns={['approved', 'valid_until']} />
      <h2>{rt(page.t, 'rc.console.recent_title')}</h2>
      <CaseTable {...page} cases={closed} columns={['status', 'closed']} />
    </section>
  ));
}

/** GET /recovery/open?user= */
export async function openCasePage(deps: Deps, c: AppContext) {
  const gate = await consoleGate(deps, c);
  if (gate) return gate;
  const officer = c.get('user')!;
  const userId = c.req.query('user') ?? '';
  const person = isUuid(userId) ? await findPersonForOfficer(deps.db, officer, userId.toLowerCase()) : undefined;
  if (!person) return c.redirect('/recovery', 303);
  const policy = await recoveryPolicyOf(deps.db, officer.organisation_id);
  return renderPage(c, { title: (t) => rt(t, 'rc.open.title'), scripts: CONSOLE_SCRIPTS }, ({ t }) => (
    <section id="recovery-open" data-messages={JSON.stringify(recoveryClientMessages(t))}>
      <h1>{rt(t, 'rc.open.title')}</h1>
      <dl>
        <dt>{rt(t, 'rc.case.person')}</dt>
        <dd>
          {person.display_name} ({person.username}){person.employee_id ? `, ${person.employee_id}` : ''}
        </dd>
      </dl>
      <p>{rt(t, 'rc.open.intro')}</p>
      <form id="open-case-form" data-user-id={person.id}>
        <DeskField t={t} policy={policy} id="desk" />
        <label for="document_type">{rt(t, 'rc.field.document_type')}</label>
        <select id="document_type" name="document_type" required>
          {DOCUMENT_TYPES.map((type) => (
            <option value={type}>{documentName(t, type)}</option>
          ))}
        </select>
        <label for="document_last4">{rt(t, 'rc.field.document_last4')}</label>
        {/* No maxlength: it would keep the first four of a pasted number. The script keeps the last four and shows them. */}
        <input id="document_last4" name="document_last4" type="text" inputmode="text" minlength={4} pattern="[A-Z0-9]{4}" autocomplete="off" required aria-describedby="document_last4_hint document_last4_echo" />
        <p id="document_last4_hint" class="muted">
          {rt(t, 'rc.field.document_last4_hint')}
        </p>
        <p id="document_last4_echo" class="muted" aria-live="polite"></p>
        <label for="identity_note">{rt(t, 'rc.field.identity_note')}</label>
        <textarea id="identity_note" name="identity_note" maxlength={1000} rows={2} aria-describedby="identity_note_hint"></textarea>
        <p id="identity_note_hint" class="muted">
          {rt(t, 'rc.field.identity_note_hint')}
        </p>
        <label for="reason">{rt(t, 'rc.field.reason')}</label>
        <textarea id="reason" name="reason" maxlength={500} rows={2} required aria-describedby="reason_hint"></textarea>
        <p id="reason_hint" class="muted">
          {rt(t, 'rc.field.reason_hint')}
        </p>
        <p class="error" role="alert" data-error hidden></p>
        <button type="submit">{rt(t, 'rc.open.submit')}</button>
      </form>
      <BackToConsole t={t} />
    </section>
  ));
}
