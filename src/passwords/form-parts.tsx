import type { Locale, Translate } from '../ui/i18n.js';
import { pt, TRANSLATED_ERRORS } from './messages.js';
import { minimumLength } from './service.js';

/** The one script of these pages (src/ui/static/password-totp.js). */
export const PASSWORD_TOTP_SCRIPT = '/static/password-totp.js';

/** Translated API errors, read by the page script (no inline script: the CSP forbids it). */
export function ErrorMessages({ t }: { t: Translate }) {
  const min = String(minimumLength());
  return (
    <ul id="warta-errors" hidden>
      {Object.entries(TRANSLATED_ERRORS).map(([code, key]) => (
        <li data-code={code}>{pt(t, key, { min })}</li>
      ))}
    </ul>
  );
}

export function FormError() {
  return <p class="error" role="alert" data-error hidden></p>;
}

export function PasswordField({ t, name, label, autocomplete }: { t: Translate; name: string; label: 'pwd.field.password' | 'pwd.field.new_password' | 'pwd.field.repeat_password'; autocomplete: 'current-password' | 'new-password' }) {
  return (
    <>
      <label for={name}>{pt(t, label)}</label>
      <input id={name} name={name} type="password" autocomplete={autocomplete} required maxlength={1024} />
    </>
  );
}

export function CodeField({ t }: { t: Translate }) {
  return (
    <>
      <label for="code">{pt(t, 'pwd.field.code')}</label>
      <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength={10} required />
    </>
  );
}

/** Where a fresh TOTP secret is shown: filled in by the script from the set-up response. */
export function TotpSetupPanel({ t }: { t: Translate }) {
  return (
    <div id="totp-setup" hidden>
      <p>{pt(t, 'pwd.totp.step_scan')}</p>
      <img id="totp-qr" alt={pt(t, 'pwd.totp.qr_alt')} width="240" height="240" />
      <p>{pt(t, 'pwd.totp.step_type')}</p>
      <p>
        <code id="totp-secret" class="code"></code>
      </p>
      <details>
        <summary>{pt(t, 'pwd.totp.uri')}</summary>
        <code id="totp-uri" class="code"></code>
      </details>
    </div>
  );
}

type MessageKey = Parameters<typeof pt>[1];

/** Removing a method: a DELETE with a confirmation prompt, back to the same page. */
export function RemoveMethodForm({ t, id, api, page, confirm, label }: { t: Translate; id: string; api: string; page: string; confirm: MessageKey; label: MessageKey }) {
  return (
    <form id={id} data-api={api} data-method="DELETE" data-next={page} data-confirm={pt(t, confirm)}>
      <FormError />
      <button type="submit" class="danger">
        {pt(t, label)}
      </button>
    </form>
  );
}

export function BackToAccount({ t }: { t: Translate }) {
  return (
    <>
      <p>
        <a href="/account">{pt(t, 'pwd.back')}</a>
      </p>
      <ErrorMessages t={t} />
    </>
  );
}

export function formatDate(locale: Locale, at: Date): string {
  return new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}
