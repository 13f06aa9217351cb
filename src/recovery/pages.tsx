import { Hono } from 'hono';
import type { Context } from 'hono';
import { OPEN_RECOVERY_STATUSES, type RecoveryCase, type RecoveryCaseStatus } from '../db/schema.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { isWartaError, type WartaError } from '../errors.js';
import { getOrganisation } from '../orgs/service.js';
import { PasswordField } from '../passwords/form-parts.js';
import { CodeField, TotpSetupPanel } from '../totp/form-parts.js';
import type { Locale, Translate } from '../ui/i18n.js';
import { type PageContext, renderPage } from '../ui/render.js';
import { approveRecoveryCase } from './approve.js';
import { type CaseView, caseIdOf, findCaseView, findOfficerCase, isUuid } from './cases.js';
import { DOCUMENT_TYPES } from './identity.js';
import { recoveryClientMessages, rt, type RecoveryMessage } from './messages.js';
import { auditOfficerRefusal, officerRefusal } from './officer.js';
import { findPersonForOfficer, type PersonMatch, searchPeople } from './people.js';
import { recoveryPolicyOf, type RecoveryPolicy } from './policy.js';
import { listRecoveryCases } from './report.js';

const WEBAUTHN_SCRIPTS = ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js'];
const CONSOLE_SCRIPTS = [...WEBAUTHN_SCRIPTS, '/static/recovery-console.js'];
const REDEEM_SCRIPTS = [...WEBAUTHN_SCRIPTS, '/static/recovery-redeem.js'];
export const RECOVERY_ACCOUNT_SCRIPT = '/static/recovery-account.js';

const CLOSED_STATUSES: RecoveryCaseStatus[] = ['completed', 'rejected', 'cancelled', 'expired', 'locked'];

/** Dates on these pages are in UTC and say so: officers at different desks must read the same time. */
export function formatTime(at: Date | string, locale: Locale): string {
  return `${new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(at))} UTC`;
}

const documentName = (t: Translate, type: string) => ((DOCUMENT_TYPES as readonly string[]).includes(type) ? rt(t, `rc.doc.${type}` as RecoveryMessage) : type);
const statusName = (t: Translate, status: RecoveryCaseStatus) => rt(t, `rc.status.${status}` as RecoveryMessage);

/** A page with another status than renderPage offers (a refused approval answers 409 like the API does). */
async function withStatus(response: Response | Promise<Response>, status: number): Promise<Response> {
  const rendered = await response;
  return new Response(rendered.body, { status, headers: rendered.headers });
}

/** Officers only, with a passkey-grade session; everyone else gets a page saying what to do (and an audit entry). */
async function consoleGate(c: AppContext): Promise<Response | undefined> {
  if (!c.get('session')) return c.redirect(`/signin?return_to=${encodeURIComponent('/recovery')}`, 303);
  const refusal = officerRefusal(c);
  if (!refusal) return undefined;
  await auditOfficerRefusal(c, refusal);
  const confirm = refusal.code === 'phishing_resistant_required';
  return renderPage(c, { title: (t) => rt(t, 'rc.console.title'), scripts: CONSOLE_SCRIPTS, status: 403 }, ({ t }) => (
    <section id="recovery-gate" data-messages={JSON.stringify(recoveryClientMessages(t))}>
      <h1>{rt(t, 'rc.console.title')}</h1>
      <p>{rt(t, confirm ? 'rc.gate.passkey' : 'rc.gate.not_officer')}</p>
      {confirm ? (
        <button type="button" id="confirm-passkey">
          {rt(t, 'rc.gate.confirm')}
        </button>
      ) : null}
      <p id="status" role="status" aria-live="polite"></p>
    </section>
  ));
}

function DeskField({ t, policy, id }: { t: Translate; policy: RecoveryPolicy; id: string }) {
  return (
    <>
      <label for={id}>{rt(t, 'rc.field.desk')}</label>
      {policy.desks.length ? (
        <select id={id} name="desk" required>
          <option value="">{rt(t, 'rc.field.desk_choose')}</option>
          {policy.desks.map((desk) => (
            <option value={desk}>{desk}</option>
          ))}
        </select>
      ) : (
        <input id={id} name="desk" type="text" maxlength={100} required />
      )}
    </>
  );
}

function BackToConsole({ t }: { t: Translate }) {
  return (
    <p class="no-print">
      <a href="/recovery">{rt(t, 'rc.back')}</a>
    </p>
  );
}

const caseLink = (id: string) => `/recovery/cases/${id}`;

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
      <thead>
        <tr>
          <th scope="col">{rt(t, 'rc.col.person')}</th>
          {columns.map((column) => (
            <th scope="col">{rt(t, `rc.col.${column}` as RecoveryMessage)}</th>
          ))}
          <th scope="col">{rt(t, 'rc.col.action')}</th>
        </tr>
      </thead>
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
      <thead>
        <tr>
          <th scope="col">{rt(t, 'rc.col.person')}</th>
          <th scope="col">{rt(t, 'rc.col.username')}</th>
          <th scope="col">{rt(t, 'rc.col.employee_id')}</th>
          <th scope="col">{rt(t, 'rc.col.action')}</th>
        </tr>
      </thead>
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

/** The officer console (/recovery), the case pages, the slip, and the user's /recover page. */
export function recoveryPages() {
  const app = new Hono<AppEnv>();

  app.get('/recovery', async (c) => {
    const gate = await consoleGate(c);
    if (gate) return gate;
    const deps = c.get('deps');
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
  });

  app.get('/recovery/open', async (c) => {
    const gate = await consoleGate(c);
    if (gate) return gate;
    const deps = c.get('deps');
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
          <input id="document_last4" name="document_last4" type="text" inputmode="text" maxlength={4} minlength={4} pattern="[A-Za-z0-9]{4}" autocomplete="off" required aria-describedby="document_last4_hint" />
          <p id="document_last4_hint" class="muted">
            {rt(t, 'rc.field.document_last4_hint')}
          </p>
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
  });

  app.get('/recovery/cases/:id', async (c) => {
    const gate = await consoleGate(c);
    if (gate) return gate;
    const deps = c.get('deps');
    const officer = c.get('user')!;
    const found = await findOfficerCase(deps.db, officer, c.req.param('id'));
    const view = await findCaseView(deps.db, found.id);
    const policy = await recoveryPolicyOf(deps.db, found.organisation_id);
    const done = c.req.query('done') === 'opened' ? 'rc.case.opened_done' : undefined;
    return renderPage(c, { title: (t) => rt(t, 'rc.case.title', { name: view.user.display_name ?? '' }), scripts: CONSOLE_SCRIPTS }, (page) => (
      <section id="recovery-case" data-case-id={view.id} data-messages={JSON.stringify(recoveryClientMessages(page.t))}>
        <h1>{rt(page.t, 'rc.case.title', { name: view.user.display_name ?? '' })}</h1>
        {done ? (
          <p class="ok" role="status">
            {rt(page.t, done)}
          </p>
        ) : null}
        <CaseDetails {...page} view={view} />
        <CaseActions {...page} view={view} recoveryCase={found} officerId={officer.id} policy={policy} />
        <BackToConsole t={page.t} />
      </section>
    ));
  });

  // The slip is this POST's answer and nothing else's: there is no URL to fetch it again, and the code is not stored.
  app.post('/recovery/cases/:id/approve', async (c) => {
    const gate = await consoleGate(c);
    if (gate) return gate;
    const deps = c.get('deps');
    const officer = c.get('user')!;
    const caseId = caseIdOf(c.req.param('id'));
    const form = await c.req.parseBody();
    let issued;
    try {
      issued = await approveRecoveryCase(deps, auditContext(c), { officer, session: c.get('session')!, caseId, body: { desk: typeof form.desk === 'string' ? form.desk : undefined } });
    } catch (error) {
      if (!isWartaError(error) || error.status >= 500) throw error;
      return withStatus(approvalRefusedPage(c, caseId, error), error.status);
    }
    const view = await findCaseView(deps.db, caseId);
    const organisation = await getOrganisation(deps.db, officer.organisation_id);
    return renderPage(c, { title: (t) => rt(t, 'rc.slip.title'), scripts: CONSOLE_SCRIPTS }, (page) => (
      <Slip {...page} view={view} code={issued.code} organisation={organisation.name} url={`${deps.config.issuer}/recover`} />
    ));
  });

  app.get('/recover', (c) =>
    renderPage(c, { title: (t) => rt(t, 'rc.redeem.title'), scripts: REDEEM_SCRIPTS }, (page) => <RedeemPage {...page} />),
  );

  return app;
}

function approvalRefusedPage(c: Context<AppEnv>, caseId: string, error: WartaError) {
  return renderPage(c, { title: (t) => rt(t, 'rc.approve_failed.title') }, ({ t }) => (
    <section id="approval-refused">
      <h1>{rt(t, 'rc.approve_failed.title')}</h1>
      <p class="error" role="alert" data-code={error.code}>
        {error.description}
      </p>
      <p>
        <a href={caseLink(caseId)}>{rt(t, 'rc.approve_failed.back')}</a>
      </p>
    </section>
  ));
}

function CaseDetails({ t, locale, view }: PageContext & { view: CaseView }) {
  const byAt = (by: { display_name: string | null } | null, desk: string | null, at: string) => rt(t, 'rc.by_at', { name: by?.display_name ?? '', desk: desk ?? '', time: formatTime(at, locale) });
  return (
    <dl id="case-details">
      <dt>{rt(t, 'rc.case.person')}</dt>
      <dd>
        {view.user.display_name} ({view.user.username}){view.user.employee_id ? `, ${view.user.employee_id}` : ''}
      </dd>
      <dt>{rt(t, 'rc.case.status')}</dt>
      <dd data-status={view.status}>{statusName(t, view.status)}</dd>
      <dt>{rt(t, 'rc.case.reason')}</dt>
      <dd>{view.reason}</dd>
      <dt>{rt(t, 'rc.case.identity')}</dt>
      <dd>{rt(t, 'rc.case.identity_value', { document: documentName(t, view.identity_check.document_type), last4: view.identity_check.document_last4 })}</dd>
      {view.identity_check.note ? (
        <>
          <dt>{rt(t, 'rc.case.note')}</dt>
          <dd>{view.identity_check.note}</dd>
        </>
      ) : null}
      <dt>{rt(t, 'rc.case.opened')}</dt>
      <dd>{byAt(view.opened.by, view.opened.desk, view.opened.at)}</dd>
      {view.status === 'pending' ? (
        <>
          <dt>{rt(t, 'rc.case.waits_until')}</dt>
          <dd>{formatTime(view.expires_at, locale)}</dd>
        </>
      ) : null}
      {view.approved ? (
        <>
          <dt>{rt(t, 'rc.case.approved')}</dt>
          <dd>{byAt(view.approved.by, view.approved.desk, view.approved.at)}</dd>
        </>
      ) : null}
      {view.code && view.status === 'approved' ? (
        <>
          <dt>{rt(t, 'rc.case.code')}</dt>
          <dd>{rt(t, 'rc.case.code_value', { time: formatTime(view.code.expires_at, locale), attempts: String(view.code.attempts), max: String(view.code.max_attempts ?? '') })}</dd>
        </>
      ) : null}
      {view.redeemed_at ? (
        <>
          <dt>{rt(t, 'rc.case.redeemed')}</dt>
          <dd>{formatTime(view.redeemed_at, locale)}</dd>
        </>
      ) : null}
      {view.closed ? (
        <>
          <dt>{rt(t, 'rc.case.closed')}</dt>
          <dd>
            {view.closed.by ? byAt(view.closed.by, view.closed.desk, view.closed.at) : formatTime(view.closed.at, locale)}
            {view.closed.reason ? ` — ${view.closed.reason}` : ''}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

function CaseActions({ t, view, recoveryCase, officerId, policy }: PageContext & { view: CaseView; recoveryCase: RecoveryCase; officerId: string; policy: RecoveryPolicy }) {
  if (!OPEN_RECOVERY_STATUSES.includes(recoveryCase.status)) return null;
  if (recoveryCase.user_id === officerId) return <p>{rt(t, 'rc.case.about_you')}</p>;
  const pending = recoveryCase.status === 'pending';
  return (
    <>
      {pending && recoveryCase.opened_by === officerId ? <p id="wait-for-second">{rt(t, 'rc.case.wait_for_second')}</p> : null}
      {pending && recoveryCase.opened_by !== officerId ? (
        <>
          <h2>{rt(t, 'rc.case.approve_title')}</h2>
          <p>{rt(t, 'rc.case.approve_intro', { name: view.user.display_name ?? '' })}</p>
          <form id="approve-form" method="post" action={`/recovery/cases/${view.id}/approve`} data-case-id={view.id}>
            <DeskField t={t} policy={policy} id="approve-desk" />
            <p class="error" role="alert" data-error hidden></p>
            <button type="submit">{rt(t, 'rc.case.approve_button')}</button>
          </form>
        </>
      ) : null}
      <h2>{rt(t, 'rc.case.reject_title')}</h2>
      {pending ? null : <p>{rt(t, 'rc.case.reject_intro_approved')}</p>}
      <form id="reject-form" data-case-id={view.id}>
        <DeskField t={t} policy={policy} id="reject-desk" />
        <label for="reject-reason">{rt(t, 'rc.field.reject_reason')}</label>
        <textarea id="reject-reason" name="reason" maxlength={500} rows={2} required></textarea>
        <p class="error" role="alert" data-error hidden></p>
        <button type="submit" class="danger">
          {rt(t, 'rc.case.reject_button')}
        </button>
      </form>
    </>
  );
}

/** The printable slip: everything the person needs, and the warning they must read. */
function Slip({ t, locale, view, code, organisation, url }: PageContext & { view: CaseView; code: string; organisation: string; url: string }) {
  return (
    <section id="recovery-slip">
      <div class="slip">
        <h1>{rt(t, 'rc.slip.title')}</h1>
        <p>{rt(t, 'rc.slip.for', { name: view.user.display_name ?? '', username: view.user.username ?? '', organisation })}</p>
        <h2 class="code" id="recovery-code">
          {code}
        </h2>
        <p>
          <strong>{rt(t, 'rc.slip.valid_until', { time: formatTime(view.code!.expires_at, locale) })}</strong>
        </p>
        <p>{rt(t, 'rc.slip.issued', { desk: view.approved!.desk ?? '', officer: view.approved!.by?.display_name ?? '', time: formatTime(view.approved!.at, locale) })}</p>
        <h3>{rt(t, 'rc.slip.steps')}</h3>
        <ol>
          <li>{rt(t, 'rc.slip.step1', { url })}</li>
          <li>{rt(t, 'rc.slip.step2', { username: view.user.username ?? '' })}</li>
          <li>{rt(t, 'rc.slip.step3')}</li>
        </ol>
        <p class="error" id="slip-warning">
          {rt(t, 'rc.never')}
        </p>
        <p class="muted" id="slip-reference">
          {rt(t, 'rc.slip.reference', { id: view.id })}
        </p>
      </div>
      <div class="no-print">
        <p>{rt(t, 'rc.slip.officer_note')}</p>
        <button type="button" id="print-slip">
          {rt(t, 'rc.slip.print')}
        </button>
      </div>
      <BackToConsole t={t} />
    </section>
  );
}

function RedeemPage({ t }: PageContext) {
  return (
    <section id="recover" data-messages={JSON.stringify({ ...recoveryClientMessages(t), checking: rt(t, 'rc.redeem.checking'), issued: rt(t, 'rc.redeem.issued'), done: rt(t, 'rc.redeem.done') })}>
      <h1>{rt(t, 'rc.redeem.title')}</h1>
      <p>{rt(t, 'rc.redeem.intro')}</p>
      <p class="error" id="never-read">
        {rt(t, 'rc.never')}
      </p>
      <form id="redeem-form" novalidate>
        <label for="username">{rt(t, 'rc.redeem.username')}</label>
        <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck={false} maxlength={254} required />
        <label for="recovery-code">{rt(t, 'rc.redeem.code')}</label>
        <input id="recovery-code" name="code" type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} maxlength={64} required aria-describedby="recovery-code-hint" />
        <p id="recovery-code-hint" class="muted">
          {rt(t, 'rc.redeem.code_hint')}
        </p>
        <button type="submit">{rt(t, 'rc.redeem.submit')}</button>
      </form>
      <p id="status" role="status" aria-live="polite"></p>
      <div id="recovery-enroll" hidden>
        <h2>{rt(t, 'rc.redeem.issued_title')}</h2>
        <p id="issued-by"></p>
        <p class="error">{rt(t, 'rc.redeem.not_you')}</p>
        <p id="revokes" hidden>
          {rt(t, 'rc.redeem.revokes')}
        </p>
        <h2>{rt(t, 'rc.redeem.passkey_title')}</h2>
        <form id="recovery-passkey-form">
          <label for="passkey-name">{rt(t, 'rc.redeem.passkey_name')}</label>
          <input id="passkey-name" name="name" type="text" maxlength={64} autocomplete="off" />
          <button type="submit">{rt(t, 'rc.redeem.passkey_button')}</button>
        </form>
        <div id="password-option" hidden>
          <h2>{rt(t, 'rc.redeem.password_title')}</h2>
          <button type="button" class="secondary" id="password-start">
            {rt(t, 'rc.redeem.password_start')}
          </button>
          <form id="recovery-password-form" hidden>
            <TotpSetupPanel t={t} />
            <PasswordField t={t} name="password" label="pwd.field.new_password" autocomplete="new-password" />
            <PasswordField t={t} name="password_repeat" label="pwd.field.repeat_password" autocomplete="new-password" />
            <CodeField t={t} />
            <button type="submit">{rt(t, 'rc.redeem.password_submit')}</button>
          </form>
        </div>
      </div>
    </section>
  );
}

/**
 * The account page's warning about an open recovery of this account, with a
 * way to cancel it: a user whose device still works must be able to stop a
 * recovery they never asked for.
 */
export function RecoveryNotice({ t, locale, cases }: { t: Translate; locale: Locale; cases: RecoveryCase[] }) {
  if (!cases.length) return null;
  return (
    <section id="recovery-notice" class="security-events" role="alert" data-messages={JSON.stringify({ ...recoveryClientMessages(t), cancelled: rt(t, 'rc.notice.cancelled') })}>
      {cases.map((open) => (
        <div data-case-id={open.id}>
          <p class="error">
            {rt(t, 'rc.notice.opened', { desk: open.opened_desk, time: formatTime(open.opened_at, locale) })}
            {open.approved_desk ? ` ${rt(t, 'rc.notice.approved', { desk: open.approved_desk })}` : ''}
          </p>
          <p>{rt(t, 'rc.notice.not_you')}</p>
          <button type="button" class="danger cancel-recovery" data-case-id={open.id}>
            {rt(t, 'rc.notice.cancel')}
          </button>
        </div>
      ))}
      <p id="recovery-notice-status" role="status" aria-live="polite"></p>
    </section>
  );
}
