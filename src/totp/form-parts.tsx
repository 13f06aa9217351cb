import type { Translate } from '../ui/i18n.js';
import { ErrorList, RemoveMethodForm } from '../ui/forms.js';
import type { Markup } from '../ui/render.js';
import { TOTP_ERRORS, tt } from './messages.js';

/** The one script of the password and authenticator-app pages (src/ui/static/password-totp.js). */
export const PASSWORD_TOTP_SCRIPT = '/static/password-totp.js';

export function CodeField({ t }: { t: Translate }) {
  return (
    <>
      <label for="code">{tt(t, 'pwd.field.code')}</label>
      <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength={10} required />
    </>
  );
}

/** Where a fresh TOTP secret is shown: filled in by the script from the set-up response. */
export function TotpSetupPanel({ t }: { t: Translate }) {
  return (
    <div id="totp-setup" hidden>
      <p>{tt(t, 'pwd.totp.step_scan')}</p>
      <img id="totp-qr" alt={tt(t, 'pwd.totp.qr_alt')} width="240" height="240" />
      <p>{tt(t, 'pwd.totp.step_type')}</p>
      <p>
        <code id="totp-secret" class="code"></code>
      </p>
      <details>
        <summary>{tt(t, 'pwd.totp.uri')}</summary>
        <code id="totp-uri" class="code"></code>
      </details>
    </div>
  );
}

/** The errors an authenticator-app page can meet, translated for its script. */
export function TotpErrorMessages({ t }: { t: Translate }) {
  return <ErrorList errors={Object.entries(TOTP_ERRORS).map(([code, key]) => [code, tt(t, key)])} />;
}

export function BackToAccount({ t }: { t: Translate }) {
  return (
    <p>
      <a href="/account">{tt(t, 'pwd.back')}</a>
    </p>
  );
}

/**
 * What the password and authenticator-app pages hold around their set-up: the
 * set-up (`children`) only where the organisation allows the method, its removal
 * once it is set, the way back, and the errors translated for the page script.
 */
export function MethodSettings(props: { t: Translate; method: 'password' | 'totp'; allowed: boolean; notAllowed: string; removal: { confirm: string; label: string } | undefined; errors: Markup; children?: Markup }) {
  const { method, removal } = props;
  return (
    <>
      {props.allowed ? props.children : <p>{props.notAllowed}</p>}
      {removal ? <RemoveMethodForm id={`${method}-remove`} api={`/api/account/${method}`} page={`/account/${method}`} confirm={removal.confirm} label={removal.label} /> : null}
      <BackToAccount t={props.t} />
      {props.errors}
    </>
  );
}
