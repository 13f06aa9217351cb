import { Hono } from 'hono';
import { WartaError } from '../errors.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { optionalString, readJsonObject, requiredString } from '../http/json-body.js';
import { anonymousRequestLimit } from '../throttle/middleware.js';
import { renderPage } from '../ui/render.js';
import { completeSetup } from './complete.js';
import { firstOrganisationName } from './first-organisation.js';
import { setupText } from './messages.js';
import type { Deps } from '../deps.js';

const MAX_DOMAINS = 50;

/** The optional list of e-mail domains: an array of short strings, bounded before anything reads it. */
function emailDomainsOf(body: Record<string, unknown>): string[] | undefined {
  const value = body.email_domains;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_DOMAINS || !value.every((domain) => typeof domain === 'string' && domain.length <= 253))
    throw new WartaError(400, 'invalid_request', `email_domains must be a list of at most ${MAX_DOMAINS} domain names`);
  return value as string[];
}

/** First-run setup: the page the printed link opens, and the endpoint its form calls with the link's token. */
export function setupRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // The token is in the URL fragment, which the browser never sends: the page's script reads it.
  app.get('/setup', async (c) => {
    // Once set up, the page says so instead of offering a form every submission of which is refused.
    if ((await firstOrganisationName(deps.db)) !== undefined)
      return renderPage(c, { title: (t) => setupText(t, 'setup.title') }, ({ t }) => (
        <section id="set-up">
          <h1>{setupText(t, 'setup.title')}</h1>
          <p role="status">{setupText(t, 'setup.error.already_set_up')}</p>
          <p>
            <a href="/signin">{setupText(t, 'setup.signin_link')}</a>
          </p>
        </section>
      ));
    return renderPage(c, { title: (t) => setupText(t, 'setup.title'), scripts: ['/static/webauthn-common.js', '/static/setup.js'] }, ({ t }) => {
      const errors = ['setup_link_invalid', 'setup_link_used', 'setup_link_expired', 'already_set_up'] as const;
      const texts = {
        no_token: setupText(t, 'setup.no_token'),
        working: setupText(t, 'setup.working'),
        done: setupText(t, 'setup.done'),
        ...Object.fromEntries(errors.map((code) => [code, setupText(t, `setup.error.${code}`)])),
      };
      return (
        <section id="setup" data-messages={JSON.stringify(texts)}>
          <h1>{setupText(t, 'setup.title')}</h1>
          <p>{setupText(t, 'setup.intro')}</p>
          <noscript>
            <p class="error">{setupText(t, 'setup.no_token')}</p>
          </noscript>
          <form id="setup-form" novalidate>
            <label for="organisation-name">{setupText(t, 'setup.organisation_label')}</label>
            <input id="organisation-name" name="organisation_name" type="text" required minlength={2} maxlength={200} autocomplete="organization" />
            <label for="email-domains">{setupText(t, 'setup.domains_label')}</label>
            <input id="email-domains" name="email_domains" type="text" maxlength={2000} autocapitalize="none" spellcheck={false} aria-describedby="email-domains-hint" />
            <p id="email-domains-hint" class="muted">
              {setupText(t, 'setup.domains_hint')}
            </p>
            <fieldset>
              <legend>{setupText(t, 'setup.admin_title')}</legend>
              <p class="muted">{setupText(t, 'setup.admin_hint')}</p>
              <label for="admin-name">{setupText(t, 'setup.name_label')}</label>
              <input id="admin-name" name="display_name" type="text" required maxlength={200} autocomplete="name" />
              <label for="admin-email">{setupText(t, 'setup.email_label')}</label>
              <input id="admin-email" name="email" type="email" maxlength={254} autocomplete="email" />
              <label for="admin-employee-id">{setupText(t, 'setup.employee_id_label')}</label>
              <input id="admin-employee-id" name="employee_id" type="text" maxlength={64} autocomplete="off" />
            </fieldset>
            <button type="submit" id="setup-submit" disabled>
              {setupText(t, 'setup.submit')}
            </button>
          </form>
          <p id="status" role="status" aria-live="polite"></p>
        </section>
      );
    });
  });

  app.post('/api/setup', anonymousRequestLimit(deps, 'setup'), async (c) => {
    const body = await readJsonObject(c);
    const setup = await completeSetup(deps, { ...auditContext(c), actor: 'setup_link' }, {
      token: requiredString(body, 'token', 128),
      organisationName: requiredString(body, 'organisation_name', 200),
      emailDomains: emailDomainsOf(body),
      displayName: requiredString(body, 'display_name', 200),
      email: optionalString(body, 'email', 254) || null,
      employeeId: optionalString(body, 'employee_id', 64) || null,
    });
    return c.json(
      {
        organisation: { id: setup.organisation.id, name: setup.organisation.name, email_domains: setup.organisation.email_domains },
        invitation: { id: setup.invitation.id, expires_at: setup.invitation.expires_at.toISOString() },
        enrollment_url: setup.link,
      },
      201,
    );
  });

  return app;
}
