/** Pieces the officer console, the case pages and the /recover page share. */
import type { RecoveryCaseStatus } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { AppContext } from '../../http/context.js';
import type { Locale, Translate } from '../../ui/i18n.js';
import { renderPage } from '../../ui/render.js';
import { DOCUMENT_TYPES } from '../identity.js';
import { recoveryClientMessages, rt, type RecoveryMessage } from '../messages.js';
import { consoleRefusal } from '../middleware.js';
import type { RecoveryPolicy } from '../policy.js';

export const WEBAUTHN_SCRIPTS = ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js'];
export const CONSOLE_SCRIPTS = [...WEBAUTHN_SCRIPTS, '/static/recovery-console.js'];

export { formatTime } from '../../ui/forms.js';

export const documentName = (t: Translate, type: string) => ((DOCUMENT_TYPES as readonly string[]).includes(type) ? rt(t, `rc.doc.${type}` as RecoveryMessage) : type);
export const statusName = (t: Translate, status: RecoveryCaseStatus) => rt(t, `rc.status.${status}` as RecoveryMessage);

/** Officers only, with a passkey-grade session; everyone else gets a page saying what to do (and an audit entry). */
export async function consoleGate(deps: Deps, c: AppContext): Promise<Response | undefined> {
  if (!c.get('session')) return c.redirect(`/signin?return_to=${encodeURIComponent('/recovery')}`, 303);
  const refusal = await consoleRefusal(deps, c);
  if (!refusal) return undefined;
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

export function DeskField({ t, policy, id }: { t: Translate; policy: RecoveryPolicy; id: string }) {
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

export function BackToConsole({ t }: { t: Translate }) {
  return (
    <p class="no-print">
      <a href="/recovery">{rt(t, 'rc.back')}</a>
    </p>
  );
}

export const caseLink = (id: string) => `/recovery/cases/${id}`;
