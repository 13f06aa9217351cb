/** The provider's pages: consent, logout confirmation, and errors that must not go back to a client. */
import type { Context } from 'hono';
import type { AppEnv } from '../http/context.js';
import type { Locale, Translate } from '../ui/i18n.js';
import { renderPage } from '../ui/render.js';
import { type OidcMessageKey, tr } from './messages.js';
import { ATTRIBUTE_SCOPE_PREFIX, claimsOfScope, GROUPS_SCOPE } from './claims.js';

/** Scopes the consent page describes in words; others are shown by name. */
const DESCRIBED_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', 'warta:account', GROUPS_SCOPE]);

function scopeLabel(t: Translate, scope: string): string {
  if (scope.startsWith(ATTRIBUTE_SCOPE_PREFIX)) return tr(t, 'oidc.scope.attribute', { name: scope.slice(ATTRIBUTE_SCOPE_PREFIX.length) });
  return DESCRIBED_SCOPES.has(scope) ? tr(t, `oidc.scope.${scope}` as OidcMessageKey) : tr(t, 'oidc.scope.other', { scope });
}

/** The two answers of a confirmation form, sent as `decision`: the one asked for, and the secondary way out. */
function Decision({ yes, no }: { yes: [value: string, label: string]; no: [value: string, label: string] }) {
  return (
    <>
      <button type="submit" name="decision" value={yes[0]}>
        {yes[1]}
      </button>{' '}
      <button type="submit" name="decision" value={no[0]} class="secondary">
        {no[1]}
      </button>
    </>
  );
}

/** An authorization or logout request that cannot be answered at the client: shown, never redirected. */
export function renderErrorPage(c: Context<AppEnv>, detail: string) {
  return renderPage(c, { title: (t) => tr(t, 'oidc.error.title'), status: 400 }, ({ t }) => (
    <section>
      <h1>{tr(t, 'oidc.error.title')}</h1>
      <p>{tr(t, 'oidc.error.lead')}</p>
      <p class="detail">{tr(t, 'oidc.error.detail', { detail })}</p>
    </section>
  ));
}

/** In the language of the client's `ui_locales` when Warta speaks one of them, else the visitor's. */
export function renderConsentPage(c: Context<AppEnv>, input: { requestId: string; clientName: string; scopes: readonly string[]; redirectUri: string; locale: Locale | undefined }) {
  const target = new URL(input.redirectUri);
  const shownTarget = target.protocol === 'http:' || target.protocol === 'https:' ? target.host : target.protocol.slice(0, -1);
  return renderPage(c, { title: (t) => tr(t, 'oidc.consent.title'), locale: input.locale }, ({ t }) => (
    <section>
      <h1>{tr(t, 'oidc.consent.title')}</h1>
      <p>{tr(t, 'oidc.consent.lead', { client: input.clientName })}</p>
      <p>{tr(t, 'oidc.consent.scopes')}</p>
      <ul class="scopes">
        {input.scopes.map((scope) => (
          <li>
            {scopeLabel(t, scope)}
            {/* The claims the scope releases, by name: what the service's administrator sees in its tokens. */}
            {claimsOfScope(scope).length > 0 ? <small class="claims"> ({tr(t, 'oidc.consent.claims', { claims: claimsOfScope(scope).join(', ') })})</small> : null}
          </li>
        ))}
      </ul>
      <p>{tr(t, 'oidc.consent.return_to', { target: shownTarget })}</p>
      <form method="post" action="/authorize/consent">
        <input type="hidden" name="request" value={input.requestId} />
        <Decision yes={['allow', tr(t, 'oidc.consent.allow')]} no={['deny', tr(t, 'oidc.consent.deny')]} />
      </form>
    </section>
  ));
}

export function renderLogoutConfirmation(c: Context<AppEnv>, input: { clientName: string | undefined; hidden: Record<string, string | undefined> }) {
  return renderPage(c, { title: (t) => tr(t, 'oidc.logout.title') }, ({ t }) => (
    <section>
      <h1>{tr(t, 'oidc.logout.title')}</h1>
      <p>{tr(t, 'oidc.logout.lead')}</p>
      {input.clientName ? <p>{tr(t, 'oidc.logout.from', { client: input.clientName })}</p> : null}
      <form method="post" action="/end_session/confirm">
        {Object.entries(input.hidden).map(([name, value]) => (value === undefined ? null : <input type="hidden" name={name} value={value} />))}
        <Decision yes={['logout', tr(t, 'oidc.logout.confirm')]} no={['stay', tr(t, 'oidc.logout.cancel')]} />
      </form>
    </section>
  ));
}

export function renderLoggedOut(c: Context<AppEnv>) {
  return renderPage(c, { title: (t) => tr(t, 'oidc.logout.done.title') }, ({ t }) => (
    <section>
      <h1>{tr(t, 'oidc.logout.done.title')}</h1>
      <p>{tr(t, 'oidc.logout.done.lead')}</p>
    </section>
  ));
}
