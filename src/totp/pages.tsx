import { FormError, formatDate } from '../ui/forms.js';
import type { PageContext } from '../ui/render.js';
import { CodeField, MethodSettings, TotpErrorMessages, TotpSetupPanel } from './form-parts.js';
import { tt } from './messages.js';

export function AccountTotpPage({ t, locale, totp, allowed, done }: PageContext & { totp: { createdAt: Date; lastUsedAt: Date | null } | null; allowed: boolean; done: boolean }) {
  return (
    <>
      <h1>{tt(t, 'pwd.totp.title')}</h1>
      {done ? (
        <p class="ok" role="status">
          {tt(t, 'pwd.totp.done')}
        </p>
      ) : null}
      <p id="totp-status">
        {totp
          ? tt(t, 'pwd.totp.status_active', { date: formatDate(locale, totp.createdAt), used: totp.lastUsedAt ? formatDate(locale, totp.lastUsedAt) : tt(t, 'pwd.totp.never') })
          : tt(t, 'pwd.totp.status_none')}
      </p>
      <MethodSettings t={t} method="totp" allowed={allowed} notAllowed={tt(t, 'pwd.totp.not_allowed')} removal={totp ? { confirm: tt(t, 'pwd.totp.remove_confirm'), label: tt(t, 'pwd.totp.remove') } : undefined} errors={<TotpErrorMessages t={t} />}>
        {totp ? <p class="muted">{tt(t, 'pwd.totp.replace_note')}</p> : null}
        <button type="button" id="totp-start" data-api="/api/account/totp/setup">
          {tt(t, totp ? 'pwd.totp.replace' : 'pwd.totp.setup')}
        </button>
        <TotpSetupPanel t={t} />
        <form id="totp-confirm" data-api="/api/account/totp/confirm" data-method="POST" data-next="/account/totp?done=1" hidden>
          <p>{tt(t, 'pwd.totp.step_confirm')}</p>
          <CodeField t={t} />
          <FormError />
          <button type="submit">{tt(t, 'pwd.totp.confirm')}</button>
        </form>
        <p class="error" role="alert" id="totp-start-error" data-error hidden></p>
      </MethodSettings>
    </>
  );
}
