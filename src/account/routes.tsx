import { Hono } from 'hono';
import type { Role, User, WebauthnCredential } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { notFound } from '../errors.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { requireSession } from '../sessions/middleware.js';
import type { Locale, Translate } from '../ui/i18n.js';
import { RenameForm } from '../ui/forms.js';
import { renderPage } from '../ui/render.js';
import { ColumnHeads } from '../ui/table.js';
import { awaitsConfirmation, confirmOwnPasskey } from '../webauthn/binding.js';
import { listPasskeys, passkeyView } from '../webauthn/credentials.js';
import { clientMessages } from '../webauthn/messages.js';
import { accountText } from './messages.js';
import { removePasskey, renamePasskey } from './passkeys.js';
import { countSignInMethods } from '../users/sign-in-methods.js';
import { RECOVERY_ACCOUNT_SCRIPT, RecoveryNotice } from '../recovery/pages/notice.js';
import { openCasesOf } from '../recovery/people.js';
import { bannerRevokeHref, DEVICES_DONE, DEVICES_SCRIPT, DevicesSection, SessionsSection, SignInsSection } from '../devices/pages.js';
import { devicesText } from '../devices/messages.js';
import { accountSecurityOverview } from '../devices/views.js';
import { SecurityEventBanner } from '../events/banner.js';
import { type RecentSecurityEvent, recentRoleGrants, recentSecurityEvents } from '../events/recent.js';
import type { Deps } from '../deps.js';

function passkeyIdParam(raw: string): string {
  if (!isUuid(raw)) throw notFound('passkey_not_found', 'no such passkey on your account');
  return raw.toLowerCase();
}

// Outcomes the account page announces after its script reloads it (`?done=`).
const DONE = { added: 'account.added', renamed: 'account.renamed', removed: 'account.removed', confirmed: 'account.confirmed' } as const;

/** The user's own events, and for an admin every role grant in the organisation too (each once, newest first). */
async function bannerEvents(deps: Deps, user: User, roles: readonly Role[]): Promise<RecentSecurityEvent[]> {
  const now = deps.clock.now();
  const own = await recentSecurityEvents(deps.db, user.id, now);
  if (!roles.includes('admin')) return own;
  const grants = await recentRoleGrants(deps.db, user.organisation_id, now);
  const seen = new Set(own.map((event) => event.id));
  return [...own, ...grants.filter((event) => !seen.has(event.id))].sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
}

/** Where each of the person's roles does its work: officers and admins otherwise have to know the address. */
function RoleEntryPoints({ t, roles }: { t: Translate; roles: readonly Role[] }) {
  const links: [string, 'account.to_admin' | 'account.to_recovery'][] = [];
  if (roles.includes('admin')) links.push(['/admin', 'account.to_admin']);
  if (roles.includes('recovery_officer')) links.push(['/recovery', 'account.to_recovery']);
  if (!links.length) return null;
  return (
    <nav id="your-work" aria-labelledby="your-work-heading">
      <h2 id="your-work-heading">{accountText(t, 'account.your_work')}</h2>
      <ul>
        {links.map(([href, key]) => (
          <li>
            <a href={href}>{accountText(t, key)}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function accountRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/account', async (c) => {
    const session = c.get('session');
    if (!session) return c.redirect('/signin?return_to=%2Faccount', 303);
    const user = c.get('user')!;
    const passkeys = await listPasskeys(deps.db, user.id);
    const recoveries = await openCasesOf(deps.db, user.id);
    const security = await accountSecurityOverview(deps, user.id, { sessionId: session.id });
    const securityEvents = await bannerEvents(deps, user, c.get('roles'));
    const devicesDone = DEVICES_DONE[c.req.query('done') as keyof typeof DEVICES_DONE] as (typeof DEVICES_DONE)[keyof typeof DEVICES_DONE] | undefined;
    const done = DONE[c.req.query('done') as keyof typeof DONE] as (typeof DONE)[keyof typeof DONE] | undefined;
    return renderPage(c, { title: (t) => accountText(t, 'account.title'), scripts: ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js', '/static/account.js', RECOVERY_ACCOUNT_SCRIPT, DEVICES_SCRIPT] }, ({ t, locale }) => (
      <section id="account" data-messages={JSON.stringify({ ...clientMessages(t), reauth: accountText(t, 'account.reauth'), reauth_needed: accountText(t, 'account.reauth_needed'), reauthentication_required: accountText(t, 'account.reauth_needed'), no_passkey: accountText(t, 'account.reauth_needed') })}>
        <h1>{accountText(t, 'account.title')}</h1>
        <RecoveryNotice t={t} locale={locale} cases={recoveries} />
        <SecurityEventBanner events={securityEvents} locale={locale} revokeHref={bannerRevokeHref(new Set(security.devices.map((d) => d.id)))} />
        <p>{accountText(t, 'account.signed_in_as', { name: user.display_name, username: user.username })}</p>
        <RoleEntryPoints t={t} roles={c.get('roles')} />
        <p id="status" role="status" aria-live="polite" class={done ? 'ok' : ''}>
          {done ? accountText(t, done) : ''}
        </p>
        {devicesDone ? <p class="ok" role="status">{devicesText(t, devicesDone)}</p> : null}

        <h2 id="passkeys-heading">{accountText(t, 'account.passkeys')}</h2>
        {passkeys.length ? <PasskeyTable passkeys={passkeys} t={t} locale={locale} canConfirm={passkeys.some((passkey) => !awaitsConfirmation(passkey) && !passkey.blocked_at)} /> : <p>{accountText(t, 'account.no_passkeys')}</p>}
        <div id="last-warning" hidden>
          <p class="error" role="alert">
            {accountText(t, 'account.last_warning')}
          </p>
          <button type="button" class="danger" id="remove-anyway">
            {accountText(t, 'account.remove_anyway')}
          </button>
        </div>

        <h2>{accountText(t, 'account.add_title')}</h2>
        <p>{accountText(t, 'account.add_intro')}</p>
        <form id="add-passkey-form">
          <label for="new-passkey-name">{accountText(t, 'account.add_name_label')}</label>
          <input id="new-passkey-name" name="name" type="text" maxlength={64} autocomplete="off" />
          <button type="submit" id="add-passkey">
            {accountText(t, 'account.add_button')}
          </button>
        </form>

        <h2>{accountText(t, 'account.other_methods')}</h2>
        <ul>
          <li>
            <a href="/account/totp">{accountText(t, 'account.totp')}</a>
          </li>
          <li>
            <a href="/account/password">{accountText(t, 'account.password')}</a>
          </li>
        </ul>

        <DevicesSection devices={security.devices} t={t} locale={locale} />
        <SessionsSection sessions={security.sessions} t={t} locale={locale} />
        <SignInsSection signIns={security.sign_ins} t={t} locale={locale} />
      </section>
    ));
  });

  app.get('/api/account/passkeys', requireSession(), async (c) => {
    const userId = c.get('user')!.id;
    const [passkeys, methods] = await Promise.all([listPasskeys(deps.db, userId), countSignInMethods(deps.db, userId)]);
    return c.json({ passkeys: passkeys.map(passkeyView), sign_in_methods: methods.total });
  });

  app.patch('/api/account/passkeys/:id', requireSession(), async (c) => {
    const body = await readJsonObject(c);
    const passkey = await renamePasskey(deps, auditContext(c), { userId: c.get('user')!.id, passkeyId: passkeyIdParam(c.req.param('id')), name: requiredString(body, 'name', 200) });
    return c.json({ passkey: passkeyView(passkey) });
  });

  // The owner vouches for a passkey added from a password + TOTP session, from a session that used a phishing-resistant passkey (webauthn/binding.ts).
  app.post('/api/account/passkeys/:id/confirm', requireSession(), async (c) => {
    const passkey = await confirmOwnPasskey(deps, auditContext(c), { session: c.get('session')!, passkeyId: passkeyIdParam(c.req.param('id')) });
    return c.json({ passkey: passkeyView(passkey) });
  });

  app.delete('/api/account/passkeys/:id', requireSession(), async (c) => {
    const { remaining } = await removePasskey(deps, auditContext(c), {
      session: c.get('session')!,
      passkeyId: passkeyIdParam(c.req.param('id')),
      confirmLastMethod: c.req.query('confirm_last_method') === 'true',
    });
    return c.json({ removed: true, remaining_sign_in_methods: remaining });
  });

  return app;
}

function when(date: Date, locale: Locale): string {
  return `${new Intl.DateTimeFormat(locale === 'pl' ? 'pl-PL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

/** Which assurance a sign-in with the passkey proves (webauthn/binding.ts), in the user's words. */
function assuranceText(passkey: WebauthnCredential) {
  if (awaitsConfirmation(passkey)) return 'account.assurance_unconfirmed' as const;
  return passkey.backup_eligible ? ('account.assurance_phishing_resistant' as const) : ('account.assurance_hardware' as const);
}

/** `canConfirm`: the user has a phishing-resistant passkey to vouch with; otherwise only a recovery desk officer can confirm. */
function PasskeyTable(props: { passkeys: WebauthnCredential[]; t: Translate; locale: Locale; canConfirm: boolean }) {
  const { t, locale } = props;
  return (
    <table aria-labelledby="passkeys-heading">
      <ColumnHeads labels={[accountText(t, 'account.col_name'), accountText(t, 'account.col_type'), accountText(t, 'account.col_assurance'), accountText(t, 'account.col_created'), accountText(t, 'account.col_last_used'), accountText(t, 'account.col_actions')]} />
      <tbody>
        {props.passkeys.map((passkey) => (
          <tr data-passkey-id={passkey.id}>
            <td>
              <span class="passkey-name">{passkey.name}</span>
              {passkey.blocked_at ? <p class="error">{accountText(t, 'account.blocked')}</p> : null}
            </td>
            <td>{accountText(t, passkey.backup_eligible ? 'account.type_synced' : 'account.type_device_bound')}</td>
            <td class={awaitsConfirmation(passkey) ? 'passkey-assurance unconfirmed' : 'passkey-assurance'}>
              {accountText(t, assuranceText(passkey))}
              {awaitsConfirmation(passkey) && !passkey.blocked_at ? (
                props.canConfirm ? (
                  <p>
                    <button type="button" class="secondary confirm-passkey" data-passkey-id={passkey.id} aria-describedby={`confirm-hint-${passkey.id}`}>
                      {accountText(t, 'account.confirm')}
                    </button>
                    <small id={`confirm-hint-${passkey.id}`}>{accountText(t, 'account.confirm_hint')}</small>
                  </p>
                ) : (
                  <p>
                    <small>{accountText(t, 'account.confirm_at_desk')}</small>
                  </p>
                )
              ) : null}
            </td>
            <td>
              <time datetime={passkey.created_at.toISOString()}>{when(passkey.created_at, locale)}</time>
            </td>
            <td>{passkey.last_used_at ? <time datetime={passkey.last_used_at.toISOString()}>{when(passkey.last_used_at, locale)}</time> : accountText(t, 'account.never')}</td>
            <td>
              <RenameForm class="rename-form" data={{ 'data-passkey-id': passkey.id }} name={passkey.name} maxLength={64} label={accountText(t, 'account.rename_label', { name: passkey.name })} submit={accountText(t, 'account.rename')} />
              <button type="button" class="danger remove-passkey" data-passkey-id={passkey.id}>
                {accountText(t, 'account.remove')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
