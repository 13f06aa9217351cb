import { CodeField, MethodSettings, TotpSetupPanel } from '../totp/form-parts.js';
import { FormError, formatDate } from '../ui/forms.js';
import type { PageContext } from '../ui/render.js';
import { ErrorMessages, PasswordField } from './form-parts.js';
import { pt } from './messages.js';
import { minimumLength } from './service.js';

export function SignInPasswordPage({ t, returnTo }: PageContext & { returnTo: string }) {
  return (
    <>
      <h1>{pt(t, 'pwd.signin.title')}</h1>
      <p>{pt(t, 'pwd.signin.intro')}</p>
      <form id="password-signin" data-api="/api/signin/password" data-method="POST" data-next={returnTo}>
        <label for="username">{pt(t, 'pwd.field.username')}</label>
        <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck={false} required maxlength={320} />
        <PasswordField t={t} name="password" label="pwd.field.password" autocomplete="current-password" />
        <CodeField t={t} />
        <FormError />
        <button type="submit">{pt(t, 'pwd.signin.submit')}</button>
      </form>
      <p class="muted">{pt(t, 'pwd.signin.passkey_note')}</p>
      <p>
        <a href={returnTo === '/account' ? '/signin' : `/signin?return_to=${encodeURIComponent(returnTo)}`}>{pt(t, 'pwd.signin.use_passkey')}</a>
      </p>
      <ErrorMessages t={t} />
    </>
  );
}

export function AccountPasswordPage({ t, locale, password, allowed }: PageContext & { password: { updatedAt: Date } | null; allowed: boolean }) {
  const min = String(minimumLength());
  return (
    <>
      <h1>{pt(t, 'pwd.account.title')}</h1>
      <p id="password-status">{password ? pt(t, 'pwd.account.status_set', { date: formatDate(locale, password.updatedAt) }) : pt(t, 'pwd.account.status_none')}</p>
      <MethodSettings t={t} method="password" allowed={allowed} notAllowed={pt(t, 'pwd.account.not_allowed')} removal={password ? { confirm: pt(t, 'pwd.account.remove_confirm'), label: pt(t, 'pwd.account.remove') } : undefined} errors={<ErrorMessages t={t} />}>
        <p class="muted">{pt(t, 'pwd.account.needs_totp')}</p>
        <form id="password-set" data-api="/api/account/password" data-method="PUT" data-next="/account/password">
          <p class="muted">{pt(t, 'pwd.account.rules', { min })}</p>
          <PasswordField t={t} name="password" label="pwd.field.new_password" autocomplete="new-password" />
          <PasswordField t={t} name="password_repeat" label="pwd.field.repeat_password" autocomplete="new-password" />
          {password ? <p class="muted">{pt(t, 'pwd.account.change_note')}</p> : null}
          <FormError />
          <button type="submit">{pt(t, password ? 'pwd.account.change' : 'pwd.account.set')}</button>
        </form>
      </MethodSettings>
    </>
  );
}

export function ReauthPage({ t, returnTo, hasPasswordAndTotp, hasPasskey }: PageContext & { returnTo: string; hasPasswordAndTotp: boolean; hasPasskey: boolean }) {
  return (
    <>
      <h1>{pt(t, 'pwd.reauth.title')}</h1>
      <p>{pt(t, 'pwd.reauth.intro')}</p>
      {hasPasskey ? (
        <p>
          <button type="button" id="passkey-reauth" data-next={returnTo}>
            {pt(t, 'pwd.reauth.passkey')}
          </button>
        </p>
      ) : null}
      {hasPasswordAndTotp ? (
        <form id="password-reauth" data-api="/api/account/reauth/password" data-method="POST" data-next={returnTo}>
          <PasswordField t={t} name="password" label="pwd.field.password" autocomplete="current-password" />
          <CodeField t={t} />
          <FormError />
          <button type="submit">{pt(t, 'pwd.reauth.submit')}</button>
        </form>
      ) : null}
      {!hasPasskey && !hasPasswordAndTotp ? <p>{pt(t, 'pwd.reauth.nothing')}</p> : null}
      <p class="error" role="alert" id="passkey-reauth-error" data-error hidden></p>
      <ErrorMessages t={t} />
    </>
  );
}

/** The invitation token stays in the URL fragment: the script reads it, the server never sees it in a URL. */
export function EnrollPasswordPage({ t }: PageContext) {
  const min = String(minimumLength());
  return (
    <>
      <h1>{pt(t, 'pwd.enroll.title')}</h1>
      <p class="muted">{pt(t, 'pwd.enroll.intro')}</p>
      <p id="enroll-status" role="status" aria-live="polite" data-no-token={pt(t, 'pwd.enroll.no_token')}>
        {pt(t, 'pwd.enroll.loading')}
      </p>
      <form id="password-enroll" data-api="/api/enroll/password" data-method="POST" data-next="/account" hidden>
        <dl>
          <dt>{pt(t, 'pwd.enroll.for')}</dt>
          <dd id="enroll-name"></dd>
          <dt id="enroll-username-label">{pt(t, 'pwd.enroll.username')}</dt>
          <dd>
            {/* A real field, so password managers save the password under the right name; `_` fields are not sent. */}
            <input id="enroll-username" name="_username" type="text" autocomplete="username" readonly aria-labelledby="enroll-username-label" />
          </dd>
        </dl>
        <h2>{pt(t, 'pwd.enroll.step_password')}</h2>
        <p class="muted">{pt(t, 'pwd.account.rules', { min })}</p>
        <PasswordField t={t} name="password" label="pwd.field.new_password" autocomplete="new-password" />
        <PasswordField t={t} name="password_repeat" label="pwd.field.repeat_password" autocomplete="new-password" />
        <h2>{pt(t, 'pwd.enroll.step_app')}</h2>
        <TotpSetupPanel t={t} />
        <p>{pt(t, 'pwd.totp.step_confirm')}</p>
        <CodeField t={t} />
        <FormError />
        <button type="submit">{pt(t, 'pwd.enroll.submit')}</button>
      </form>
      <ErrorMessages t={t} />
    </>
  );
}
