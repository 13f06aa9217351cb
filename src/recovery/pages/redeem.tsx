/** The person's /recover page: the code from the slip, then a new passkey (or a password and an authenticator app). */
import type { AppContext } from '../../http/context.js';
import { PasswordField } from '../../passwords/form-parts.js';
import { CodeField, TotpSetupPanel } from '../../totp/form-parts.js';
import { type PageContext, renderPage } from '../../ui/render.js';
import { recoveryClientMessages, rt } from '../messages.js';
import { WEBAUTHN_SCRIPTS } from './parts.js';

const REDEEM_SCRIPTS = [...WEBAUTHN_SCRIPTS, '/static/recovery-redeem.js'];

/** GET /recover */
export function recoverPage(c: AppContext) {
  return renderPage(c, { title: (t) => rt(t, 'rc.redeem.title'), scripts: REDEEM_SCRIPTS }, (page) => <RedeemPage {...page} />);
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
        {/* Focused by the script when the code is accepted: the form that had the focus is gone. */}
        <h2 id="recovery-enroll-title" tabindex={-1}>
          {rt(t, 'rc.redeem.issued_title')}
        </h2>
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
