/** One case: its details and what an officer may do with it, and the printable slip its approval answers with. */
import { OPEN_RECOVERY_STATUSES, type RecoveryCase, type Session } from '../../db/schema.js';
import { REAUTH_MAX_AGE_SECONDS } from '../../sessions/reauth.js';
import type { Deps } from '../../deps.js';
import { type AppContext, auditContext } from '../../http/context.js';
import { isWartaError, type WartaError } from '../../errors.js';
import { getOrganisation } from '../../orgs/service.js';
import { Detail } from '../../ui/forms.js';
import { type PageContext, renderPage } from '../../ui/render.js';
import { approveRecoveryCase } from '../approve.js';
import { type CaseView, caseIdOf, findCaseView, findOfficerCase } from '../cases.js';
import { readApproval } from '../input.js';
import { recoveryClientMessages, rt } from '../messages.js';
import { recoveryPolicyOf, type RecoveryPolicy } from '../policy.js';
import { BackToConsole, caseLink, CONSOLE_SCRIPTS, consoleGate, DeskField, documentName, formatTime, statusName } from './parts.js';

/** A page with another status than renderPage offers (a refused approval answers 409 like the API does). */
async function withStatus(response: Response | Promise<Response>, status: number): Promise<Response> {
  const rendered = await response;
  return new Response(rendered.body, { status, headers: rendered.headers });
}

/** GET /recovery/cases/:id */
export async function casePage(deps: Deps, c: AppContext, caseId: string) {
  const gate = await consoleGate(deps, c);
  if (gate) return gate;
  const officer = c.get('user')!;
  const found = await findOfficerCase(deps.db, officer, caseId);
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
      <CaseActions {...page} view={view} recoveryCase={found} officerId={officer.id} policy={policy} freshFor={confirmationLeftSeconds(deps, c.get('session')!)} />
      <BackToConsole t={page.t} />
    </section>
  ));
}

/** POST /recovery/cases/:id/approve. The slip is this POST's answer and nothing else's: there is no URL to fetch it again, and the code is not stored. */
export async function approveAndPrintSlip(deps: Deps, c: AppContext) {
  const gate = await consoleGate(deps, c);
  if (gate) return gate;
  const officer = c.get('user')!;
  const caseId = caseIdOf(c.req.param('id'));
  const form = await c.req.parseBody();
  let issued;
  try {
    issued = await approveRecoveryCase(deps, auditContext(c), { officer, session: c.get('session')!, caseId, ...readApproval({ desk: typeof form.desk === 'string' ? form.desk : undefined }) });
  } catch (error) {
    if (!isWartaError(error) || error.status >= 500) throw error;
    return withStatus(approvalRefusedPage(c, caseId, error), error.status);
  }
  const view = await findCaseView(deps.db, caseId);
  const organisation = await getOrganisation(deps.db, officer.organisation_id);
  return renderPage(c, { title: (t) => rt(t, 'rc.slip.title'), scripts: CONSOLE_SCRIPTS }, (page) => (
    <Slip {...page} view={view} code={issued.code} organisation={organisation.name} url={`${deps.config.issuer}/recover`} />
  ));
}

function approvalRefusedPage(c: AppContext, caseId: string, error: WartaError) {
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
      {view.identity_check.note ? <Detail term={rt(t, 'rc.case.note')}>{view.identity_check.note}</Detail> : null}
      <dt>{rt(t, 'rc.case.opened')}</dt>
      <dd>{byAt(view.opened.by, view.opened.desk, view.opened.at)}</dd>
      {view.status === 'pending' ? <Detail term={rt(t, 'rc.case.waits_until')}>{formatTime(view.expires_at, locale)}</Detail> : null}
      {view.approved ? <Detail term={rt(t, 'rc.case.approved')}>{byAt(view.approved.by, view.approved.desk, view.approved.at)}</Detail> : null}
      {view.code && view.status === 'approved' ? <Detail term={rt(t, 'rc.case.code')}>{rt(t, 'rc.case.code_value', { time: formatTime(view.code.expires_at, locale), attempts: String(view.code.attempts), max: String(view.code.max_attempts ?? '') })}</Detail> : null}
      {view.redeemed_at ? <Detail term={rt(t, 'rc.case.redeemed')}>{formatTime(view.redeemed_at, locale)}</Detail> : null}
      {view.closed ? (
        <Detail term={rt(t, 'rc.case.closed')}>
          {view.closed.by ? byAt(view.closed.by, view.closed.desk, view.closed.at) : formatTime(view.closed.at, locale)}
          {view.closed.reason ? ` — ${view.closed.reason}` : ''}
        </Detail>
      ) : null}
    </dl>
  );
}

/** How long the session's passkey confirmation still counts for an approval: the page asks for a new one first when it will not. */
function confirmationLeftSeconds(deps: Deps, session: Session): number {
  return Math.max(0, Math.floor((session.auth_time.getTime() + REAUTH_MAX_AGE_SECONDS * 1000 - deps.clock.now().getTime()) / 1000));
}

function CaseActions({ t, view, recoveryCase, officerId, policy, freshFor }: PageContext & { view: CaseView; recoveryCase: RecoveryCase; officerId: string; policy: RecoveryPolicy; freshFor: number }) {
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
          <form id="approve-form" method="post" action={`/recovery/cases/${view.id}/approve`} data-case-id={view.id} data-fresh-for={String(freshFor)}>
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
