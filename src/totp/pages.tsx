import { BackToAccount, CodeField, FormError, formatDate, RemoveMethodForm, TotpSetupPanel } from '../passwords/form-parts.js';
import { pt } from '../passwords/messages.js';
import type { PageContext } from '../ui/render.js';

export function AccountTotpPage({ t, locale, totp, allowed, done }: PageContext & { totp: { createdAt: Date; lastUsedAt: Date | null } | null; allowed: boolean; done: boolean }) {
  return (
    <>
      <h1>{pt(t, 'pwd.totp.title')}</h1>
      {done ? (
        <p class="ok" role="status">
          {pt(t, 'pwd.totp.done')}
        </p>
      ) : null}
      <p id="totp-status">
        {totp
          ? pt(t, 'pwd.totp.status_active', { date: formatDate(locale, totp.createdAt), used: totp.lastUsedAt ? formatDate(locale, totp.lastUsedAt) : pt(t, 'pwd.totp.never') })
          : pt(t, 'pwd.totp.status_none')}
      </p>
      {allowed ? (
        <>
          {totp ? <p class="muted">{pt(t, 'pwd.totp.replace_note')}</p> : null}
          <button type="button" id="totp-start" data-api="/api/account/totp/setup">
            {pt(t, totp ? 'pwd.totp.replace' : 'pwd.totp.setup')}
          </button>
          <TotpSetupPanel t={t} />
          <form id="totp-confirm" data-api="/api/account/totp/confirm" data-method="POST" data-next="/account/totp?done=1" hidden>
            <p>{pt(t, 'pwd.totp.step_confirm')}</p>
            <CodeField t={t} />
            <FormError />
            <button type="submit">{pt(t, 'pwd.totp.confirm')}</button>
          </form>
          <p class="error" role="alert" id="totp-start-error" data-error hidden></p>
        </>
      ) : (
        <p>{pt(t, 'pwd.totp.not_allowed')}</p>
      )}
      {totp ? <RemoveMethodForm t={t} id="totp-remove" api="/api/account/totp" page="/account/totp" confirm="pwd.totp.remove_confirm" label="pwd.totp.remove" /> : null}
      <BackToAccount t={t} />
    </>
  );
}
