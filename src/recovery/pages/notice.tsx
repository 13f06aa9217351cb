import type { RecoveryCase } from '../../db/schema.js';
import type { Locale, Translate } from '../../ui/i18n.js';
import { recoveryClientMessages, rt } from '../messages.js';
import { formatTime } from './parts.js';

export const RECOVERY_ACCOUNT_SCRIPT = '/static/recovery-account.js';

/**
 * The account page's warning about an open recovery of this account, with a
 * way to stop it: a user whose device still works must be able to stop a
 * recovery they never asked for. "Cancel" puts the case on hold (disputed)
 * until an officer sees the person: this session may be an attacker's.
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
          {open.status === 'disputed' ? (
            <p>{rt(t, 'rc.notice.disputed', { time: formatTime(open.disputed_at!, locale) })}</p>
          ) : open.status === 'redeemed' ? (
            <p>{rt(t, 'rc.err.recovery_code_redeemed')}</p>
          ) : (
            <>
              <p>{rt(t, 'rc.notice.not_you')}</p>
              <button type="button" class="danger cancel-recovery" data-case-id={open.id}>
                {rt(t, 'rc.notice.cancel')}
              </button>
            </>
          )}
        </div>
      ))}
      <p id="recovery-notice-status" role="status" aria-live="polite"></p>
    </section>
  );
}
